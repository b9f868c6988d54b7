// The unit the host libraries' shared precompiled header is built with
// (host/CMakeLists.txt, th_pch_host); it has no code of its own.

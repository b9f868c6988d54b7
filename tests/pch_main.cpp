// The unit the tests' shared precompiled header is built with
// (tests/CMakeLists.txt, th_pch_test); the executable runs no test.

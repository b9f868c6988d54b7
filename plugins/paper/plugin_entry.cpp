// The exported entry point of libpaper.so.
#include "paper_broker.h"

// Brackets and OTO orders are native (exits.cpp), with offsets from the fill
// and time exits; OCO orders are emulated by the host.
TH_BROKER_PLUGIN(th::paper::PaperBroker, "paper", "Paper broker", "0.1.0",
                 "Simulated broker: fills at bid/ask from the host's market feed, with latency, partial fills, "
                 "commissions and its own persistent account",
                 TH_BROKER_OPTIONS | TH_BROKER_SHORTING | TH_BROKER_REPLACE | TH_BROKER_MARKET_FEED |
                   TH_BROKER_NATIVE_EXITS)

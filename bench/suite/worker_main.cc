// srs-suite-worker: the MPI half of srs-bench-suite (workers.h); the driver launches it.
#include "bench/suite/workers.h"

int main(int argc, char** argv) { return srs::bench::WorkerMain(argc, argv); }

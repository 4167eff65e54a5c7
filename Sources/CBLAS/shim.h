// OpenBLAS's CBLAS interface (Linux). On macOS the RecurrentTensor target imports Accelerate instead.
#include <cblas.h>

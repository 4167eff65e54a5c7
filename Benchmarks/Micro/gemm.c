// A split step's recurrent product for one part: G sgemm calls against the gate blocks of W_hh (mode 0,
// before branch perf2) vs one against the part's packed (G·n, P) rows (mode 1). One thread, process CPU time.
#include <cblas.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
// Per-part step product: B x (G*n) x P. mode 0: G gemms into (B, G*H) at column offsets, W rows from whh; mode 1: one packed.
int main(int argc, char **argv) {
    int mode = atoi(argv[1]), B = atoi(argv[2]), G = atoi(argv[3]), H = atoi(argv[4]), P = H, iters = atoi(argv[5]);
    int n = H / 2, u0 = 0;
    float *h = malloc(sizeof(float) * B * P), *w = malloc(sizeof(float) * G * H * P), *pk = malloc(sizeof(float) * G * n * P);
    float *hw = malloc(sizeof(float) * B * G * H);
    for (int i = 0; i < B * P; i++) h[i] = (float)rand() / RAND_MAX;
    for (int i = 0; i < G * H * P; i++) w[i] = (float)rand() / RAND_MAX - 0.5f;
    for (int g = 0; g < G; g++) memcpy(pk + g * n * P, w + (g * H + u0) * P, sizeof(float) * n * P);
    struct timespec a, b; clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
    for (int it = 0; it < iters; it++) {
        if (mode == 0) {
            for (int g = 0; g < G; g++)
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, n, P, 1, h, P, w + (g * H + u0) * P, P, 0, hw + g * H + u0, G * H);
        } else {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, B, G * n, P, 1, h, P, pk, P, 0, hw, G * n);
        }
    }
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
    printf("mode %d B %d G %d H %d: %.2f us/step\n", mode, B, G, H, ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / 1e3 / iters);
    return 0;
}

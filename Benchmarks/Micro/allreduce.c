// The all-reduce DataParallel makes for the char-LM of docs/DISTRIBUTED.md (1,086,017 Floats, 4.34 MB),
// blocking (MPI_Allreduce) and non-blocking (MPI_Iallreduce + MPI_Wait), with nothing else running:
//   mpicc -O2 Benchmarks/Micro/allreduce.c -o /tmp/allreduce && mpirun --oversubscribe --bind-to core -np 2 /tmp/allreduce
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static double time_per_call(float *buffer, int count, int blocking, int repeats) {
    MPI_Barrier(MPI_COMM_WORLD);
    double start = MPI_Wtime();
    for (int k = 0; k < repeats; k++) {
        if (blocking) {
            MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        } else {
            MPI_Request request;
            MPI_Iallreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD, &request);
            MPI_Wait(&request, MPI_STATUS_IGNORE);
        }
    }
    return (MPI_Wtime() - start) / repeats;
}

int main(int argc, char **argv) {
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    const int count = 1086017;
    float *buffer = malloc(count * sizeof(float));
    for (int i = 0; i < count; i++) buffer[i] = 1e-6f * i;
    time_per_call(buffer, count, 1, 5);   // warm-up
    for (int round = 0; round < 3; round++) {
        double blocking = time_per_call(buffer, count, 1, 50), nonblocking = time_per_call(buffer, count, 0, 50);
        if (rank == 0) printf("%.2f MB: MPI_Allreduce %.3f ms, MPI_Iallreduce + MPI_Wait %.3f ms\n", count * 4 / 1e6, blocking * 1e3, nonblocking * 1e3);
    }
    free(buffer);
    MPI_Finalize();
    return 0;
}

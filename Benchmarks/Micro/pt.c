// Pair helper barrier cost: STEPS steps of WORK additions per part, split vs serial (see README.md).
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "RecurrentKernels.h"
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static volatile double sink;
static int steps, work;
static void spin(int n){double s=0;for(int i=0;i<n;i++)s+=i*0.5;sink=s;}
static void task(void*ctx,long part){for(int s=0;s<steps;s++){spin(work);rk_pair_barrier(part);}}
int main(int argc,char**argv){steps=atoi(argv[1]);work=atoi(argv[2]); rk_pair_set_adaptive(0);  // measure every region
 for(int r=0;r<5;r++){
 double t0=now(); for(int s=0;s<steps;s++){spin(work);spin(work);} double ts=now()-t0;
 t0=now(); rk_pair_try_acquire(); rk_pair_run(task,0); rk_pair_release(); double tp=now()-t0;
 printf("serial %.1f us, pair %.1f us, per-step overhead %.2f us\n",ts*1e6,tp*1e6,(tp-ts/2)/steps*1e6);}
}

// Do two threads run in parallel? (see README.md).
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <time.h>
static double now(){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static void* spin(void*a){volatile double s=0;for(long i=0;i<200000000L;i++)s+=i*0.5;return 0;}
int main(){double t0=now();spin(0);double t1=now()-t0;
 pthread_t th; t0=now(); pthread_create(&th,0,spin,0); spin(0); pthread_join(th,0); double t2=now()-t0;
 printf("one: %.3f s, two in parallel: %.3f s (ideal equal)\n",t1,t2);}

/* c_client: a C program that uses include/dojo_job.h as a training loop
 * would. `c_client noop` checks that outside dojorun every call is a no-op;
 * `c_client STEPS` runs STEPS steps of SLEEP_MS (env C_CLIENT_SLEEP_MS, 20)
 * with a marked collective each, loss 1/(step+1) and 8 samples a step; on a
 * stop request it says whether the program's own SIGUSR1 handler ran too,
 * and exits 3. `c_client bench N` times N dojo_job_step calls (and N begin/end
 * collective pairs) against N calls of an empty function, in ns a call. */
#define _POSIX_C_SOURCE 200809L
#define DOJO_JOB_IMPLEMENTATION
#include "dojo_job.h"

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t own_handler_ran = 0;

static void own_handler(int sig) {
  (void)sig;
  own_handler_ran = 1;
}

static void sleep_ms(long ms) {
  struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&t, &t) != 0) {
  }
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* The baseline: a call the compiler cannot remove. */
__attribute__((noinline)) static void empty_step(int64_t step, int64_t samples, double loss) {
  __asm__ volatile("" : : "r"(step), "r"(samples), "x"(loss) : "memory");
}

static int bench(long n) {
  long i;
  double t0, t1, t2, t3;
  if (!dojo_job_init()) {
    fprintf(stderr, "c_client bench: set DOJO_HEARTBEAT_ADDR\n");
    return 1;
  }
  t0 = now_s();
  for (i = 0; i < n; ++i)
    empty_step(i, 32, 0.5);
  t1 = now_s();
  for (i = 0; i < n; ++i)
    dojo_job_step(i, 32, 0.5);
  t2 = now_s();
  for (i = 0; i < n; ++i) {
    dojo_job_begin_collective("all_reduce");
    dojo_job_end_collective();
  }
  t3 = now_s();
  printf("C: empty call %.1f ns, dojo_job_step %.1f ns, begin+end collective %.1f ns\n",
         1e9 * (t1 - t0) / (double)n, 1e9 * (t2 - t1) / (double)n, 1e9 * (t3 - t2) / (double)n);
  return 0;
}

int main(int argc, char** argv) {
  long steps, step, sleep_each;
  const char* sleep_env = getenv("C_CLIENT_SLEEP_MS");
  if (argc == 3 && strcmp(argv[1], "bench") == 0)
    return bench(atol(argv[2]));
  if (argc != 2) {
    fprintf(stderr, "usage: c_client noop|STEPS|bench N\n");
    return 2;
  }
  /* The program's own handler, installed before the client's: it must still run. */
  signal(SIGUSR1, own_handler);
  if (strcmp(argv[1], "noop") == 0) {
    if (dojo_job_init() || dojo_job_active()) {
      fprintf(stderr, "c_client: active outside dojorun\n");
      return 1;
    }
    dojo_job_begin_collective("all_reduce");
    dojo_job_end_collective();
    dojo_job_step(0, 8, 0.5);
    dojo_job_done();
    printf("inactive: rank %d of %d, attempt %d, share %d, run dir %s, checkpoints %s, stop %d\n",
           dojo_job_rank(), dojo_job_world_size(), dojo_job_attempt(), dojo_job_batch_share(),
           dojo_job_run_dir(), dojo_job_checkpoint_dir(), dojo_job_stop_requested());
    return 0;
  }
  steps = atol(argv[1]);
  sleep_each = sleep_env != NULL ? atol(sleep_env) : 20;
  if (!dojo_job_init()) {
    fprintf(stderr, "c_client: not under dojorun\n");
    return 1;
  }
  for (step = 0; step < steps; ++step) {
    sleep_ms(sleep_each);
    dojo_job_begin_collective("all_reduce");
    sleep_ms(2);
    dojo_job_end_collective();
    dojo_job_step(step, 8, 1.0 / (double)(step + 1));
    if (dojo_job_stop_requested()) {
      printf("rank %d: stop on signal %d at step %ld; own handler ran: %d\n", dojo_job_rank(),
             dojo_job_stop_signal(), step, (int)own_handler_ran);
      dojo_job_exit_stopped();
    }
  }
  printf("rank %d: done after %ld steps\n", dojo_job_rank(), steps);
  return 0;
}

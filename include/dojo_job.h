/* dojo_job.h: the dojo job client for C and C++ programs; the same calls as
 * the Python client (python/dojo_job) and the same wire format (docs/LAUNCH.md,
 * "The heartbeat wire format").
 *
 * Single header: in exactly one source file of the program,
 *     #define DOJO_JOB_IMPLEMENTATION
 *     #include "dojo_job.h"
 * and include it plainly elsewhere; link with -pthread. Then:
 *     dojo_job_init();                               // early in main
 *     for (...) {
 *       dojo_job_begin_collective("all_reduce"); ... dojo_job_end_collective();
 *       dojo_job_step(step, samples, loss);          // every step
 *       if (dojo_job_stop_requested()) { save(dojo_job_checkpoint_dir()); dojo_job_exit_stopped();
 * }
 *     }
 * Under dojorun (DOJO_HEARTBEAT_ADDR set) a thread sends one heartbeat a
 * second to the launcher; outside it every call does nothing and none fails.
 * SIGTERM, SIGINT and SIGUSR1 set the stop flag; a handler the program
 * installed before dojo_job_init() still runs after ours.
 */
#ifndef DOJO_JOB_H
#define DOJO_JOB_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** The exit code dojorun reads as a clean stop after a checkpoint. */
#define DOJO_JOB_EXIT_STOPPED 3

/** Starts the client (idempotent; every other call starts it too). Returns 1
 *  under dojorun, 0 outside it. */
int dojo_job_init(void);
/** 1 when this process reports to a dojorun launcher. */
int dojo_job_active(void);
/** Step `step` finished: `samples` this rank processed in it (0: unknown) and
 *  the loss (NAN: unknown). The time since the previous call is the step's.
 *  No system call. */
void dojo_job_step(int64_t step, int64_t samples, double loss);
/** Marks the start of a collective, so a hang report names it and its time
 *  is not counted as compute; nested marks count once. */
void dojo_job_begin_collective(const char* name);
void dojo_job_end_collective(void);
/** 1 once SIGTERM, SIGINT or SIGUSR1 asked the job to stop. */
int dojo_job_stop_requested(void);
/** The signal that asked for the stop (0 before one did). */
int dojo_job_stop_signal(void);
/** Tells the launcher this rank finished (also done at exit). */
void dojo_job_done(void);
/** dojo_job_done(), then exit(3): a clean stop dojorun does not restart. */
void dojo_job_exit_stopped(void);
/** DOJO_RUN_DIR, or "." outside dojorun. */
const char* dojo_job_run_dir(void);
/** DOJO_CHECKPOINT_DIR, or "checkpoints" outside dojorun. */
const char* dojo_job_checkpoint_dir(void);
/** The attempt number (0 for the first). */
int dojo_job_attempt(void);
/** This rank's samples per global batch (DOJO_BATCH_SHARE), or 0 for none. */
int dojo_job_batch_share(void);
int dojo_job_rank(void);
int dojo_job_world_size(void);
int dojo_job_local_rank(void);

#ifdef __cplusplus
}
#endif

#ifdef DOJO_JOB_IMPLEMENTATION

#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t dojo_job_once_ = PTHREAD_ONCE_INIT;
static struct {
  pthread_mutex_t mutex;
  pthread_cond_t wake;
  pthread_t thread;
  int active, finished, socket_fd;
  struct sockaddr_storage peer;
  socklen_t peer_length;
  char prefix[256];
  double interval_s;
  int64_t step, samples;
  uint64_t sequence;
  double step_seconds, comm_seconds, loss, last_step_at, comm_start;
  int depth;
  char collective[65];
  struct sigaction previous[3];
} dojo_job_state_;

static volatile sig_atomic_t dojo_job_stop_signal_ = 0;
static const int dojo_job_signals_[3] = {SIGTERM, SIGINT, SIGUSR1};

static double dojo_job_now_(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int dojo_job_env_int_(const char* name, int fallback) {
  const char* value = getenv(name);
  return value != NULL && *value != '\0' ? atoi(value) : fallback;
}

/* A field of the line: no whitespace, at most 64 characters. */
static void dojo_job_token_(char* out, size_t size, const char* text, const char* fallback) {
  size_t i = 0;
  if (text == NULL || *text == '\0')
    text = fallback;
  for (; text[i] != '\0' && i + 1 < size && i < 64; ++i)
    out[i] =
        (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r') ? '_' : text[i];
  out[i] = '\0';
}

static void dojo_job_send_locked_(void) {
  char line[512];
  int n =
      snprintf(line, sizeof(line), "%s%lld %llu %.6f %.6f %lld %.9g %s %s", dojo_job_state_.prefix,
               (long long)dojo_job_state_.step, (unsigned long long)dojo_job_state_.sequence,
               dojo_job_state_.step_seconds, dojo_job_state_.comm_seconds,
               (long long)dojo_job_state_.samples, dojo_job_state_.loss,
               dojo_job_state_.depth > 0 ? dojo_job_state_.collective : "-",
               dojo_job_state_.finished ? "done" : "run");
  if (n > 0 && (size_t)n < sizeof(line))
    sendto(dojo_job_state_.socket_fd, line, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT,
           (struct sockaddr*)&dojo_job_state_.peer, dojo_job_state_.peer_length);
}

static void* dojo_job_pulse_(void* unused) {
  (void)unused;
  pthread_mutex_lock(&dojo_job_state_.mutex);
  while (!dojo_job_state_.finished) {
    struct timespec until;
    double at;
    dojo_job_send_locked_();
    clock_gettime(CLOCK_REALTIME, &until);
    at = (double)until.tv_sec + (double)until.tv_nsec * 1e-9 + dojo_job_state_.interval_s;
    until.tv_sec = (time_t)at;
    until.tv_nsec = (long)((at - (double)until.tv_sec) * 1e9);
    pthread_cond_timedwait(&dojo_job_state_.wake, &dojo_job_state_.mutex, &until);
  }
  pthread_mutex_unlock(&dojo_job_state_.mutex);
  return NULL;
}

static void dojo_job_on_signal_(int sig, siginfo_t* info, void* context) {
  int i;
  dojo_job_stop_signal_ = sig;
  /* The program's own handler still runs; the default action (terminate)
   * would defeat a clean stop. */
  for (i = 0; i < 3; ++i) {
    const struct sigaction* p = &dojo_job_state_.previous[i];
    if (dojo_job_signals_[i] != sig)
      continue;
    if ((p->sa_flags & SA_SIGINFO) && p->sa_sigaction != NULL)
      p->sa_sigaction(sig, info, context);
    else if (!(p->sa_flags & SA_SIGINFO) && p->sa_handler != SIG_DFL && p->sa_handler != SIG_IGN)
      p->sa_handler(sig);
  }
}

static void dojo_job_start_(void) {
  const char* address = getenv("DOJO_HEARTBEAT_ADDR");
  const char* colon;
  char host[256], name[80], job[80];
  struct addrinfo hints, *found = NULL;
  int i;
  pthread_mutex_init(&dojo_job_state_.mutex, NULL);
  pthread_cond_init(&dojo_job_state_.wake, NULL);
  if (address == NULL || *address == '\0' || (colon = strrchr(address, ':')) == NULL)
    return;
  snprintf(host, sizeof(host), "%.*s", (int)(colon - address), address);
  if (host[0] == '[' && strlen(host) > 1 && host[strlen(host) - 1] == ']') {
    memmove(host, host + 1, strlen(host));
    host[strlen(host) - 1] = '\0';
  }
  memset(&hints, 0, sizeof(hints));
  hints.ai_socktype = SOCK_DGRAM;
  if (getaddrinfo(host, colon + 1, &hints, &found) != 0 || found == NULL) {
    fprintf(stderr,
            "dojo_job: no heartbeats to %s (it does not resolve); the job runs without them\n",
            address);
    return;
  }
  dojo_job_state_.socket_fd = socket(found->ai_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  memcpy(&dojo_job_state_.peer, found->ai_addr, found->ai_addrlen);
  dojo_job_state_.peer_length = found->ai_addrlen;
  freeaddrinfo(found);
  if (dojo_job_state_.socket_fd < 0)
    return;
  gethostname(host, sizeof(host));
  host[sizeof(host) - 1] = '\0';
  dojo_job_token_(name, sizeof(name), host, "host");
  dojo_job_token_(job, sizeof(job), getenv("DOJO_JOB"), "job");
  snprintf(dojo_job_state_.prefix, sizeof(dojo_job_state_.prefix), "dojo-heartbeat 2 %s %d %d %s ",
           job, dojo_job_env_int_("DOJO_ATTEMPT", 0), dojo_job_env_int_("RANK", 0), name);
  dojo_job_state_.interval_s =
      getenv("DOJO_HEARTBEAT_INTERVAL_S") ? atof(getenv("DOJO_HEARTBEAT_INTERVAL_S")) : 1.0;
  if (!(dojo_job_state_.interval_s > 0))
    dojo_job_state_.interval_s = 1.0;
  dojo_job_state_.step = -1;
  dojo_job_state_.loss = NAN;
  dojo_job_state_.last_step_at = -1;
  for (i = 0; i < 3; ++i) {
    struct sigaction action;
    sigaction(dojo_job_signals_[i], NULL, &dojo_job_state_.previous[i]);
    if (!(dojo_job_state_.previous[i].sa_flags & SA_SIGINFO) &&
        dojo_job_state_.previous[i].sa_handler == SIG_IGN)
      continue; /* the program chose to ignore it */
    memset(&action, 0, sizeof(action));
    action.sa_sigaction = dojo_job_on_signal_;
    action.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&action.sa_mask);
    sigaction(dojo_job_signals_[i], &action, NULL);
  }
  if (pthread_create(&dojo_job_state_.thread, NULL, dojo_job_pulse_, NULL) != 0)
    return;
  dojo_job_state_.active = 1;
  atexit(dojo_job_done);
}

int dojo_job_init(void) {
  pthread_once(&dojo_job_once_, dojo_job_start_);
  return dojo_job_state_.active;
}

int dojo_job_active(void) {
  return dojo_job_init();
}

void dojo_job_step(int64_t step, int64_t samples, double loss) {
  double now;
  if (!dojo_job_init())
    return;
  now = dojo_job_now_();
  pthread_mutex_lock(&dojo_job_state_.mutex);
  if (dojo_job_state_.last_step_at >= 0)
    dojo_job_state_.step_seconds += now - dojo_job_state_.last_step_at;
  dojo_job_state_.last_step_at = now;
  dojo_job_state_.step = step;
  if (samples > 0)
    dojo_job_state_.samples += samples;
  if (!isnan(loss))
    dojo_job_state_.loss = loss;
  pthread_mutex_unlock(&dojo_job_state_.mutex);
}

void dojo_job_begin_collective(const char* name) {
  if (!dojo_job_init())
    return;
  pthread_mutex_lock(&dojo_job_state_.mutex);
  if (dojo_job_state_.depth++ == 0)
    dojo_job_state_.comm_start = dojo_job_now_();
  ++dojo_job_state_.sequence;
  dojo_job_token_(dojo_job_state_.collective, sizeof(dojo_job_state_.collective), name,
                  "collective");
  pthread_mutex_unlock(&dojo_job_state_.mutex);
}

void dojo_job_end_collective(void) {
  if (!dojo_job_init())
    return;
  pthread_mutex_lock(&dojo_job_state_.mutex);
  if (dojo_job_state_.depth > 0 && --dojo_job_state_.depth == 0)
    dojo_job_state_.comm_seconds += dojo_job_now_() - dojo_job_state_.comm_start;
  pthread_mutex_unlock(&dojo_job_state_.mutex);
}

int dojo_job_stop_requested(void) {
  return dojo_job_stop_signal_ != 0;
}
int dojo_job_stop_signal(void) {
  return (int)dojo_job_stop_signal_;
}

void dojo_job_done(void) {
  int join = 0;
  if (!dojo_job_state_.active)
    return;
  pthread_mutex_lock(&dojo_job_state_.mutex);
  if (!dojo_job_state_.finished) {
    dojo_job_state_.finished = 1;
    dojo_job_send_locked_();
    pthread_cond_signal(&dojo_job_state_.wake);
    join = 1;
  }
  pthread_mutex_unlock(&dojo_job_state_.mutex);
  if (join)
    pthread_join(dojo_job_state_.thread, NULL);
}

void dojo_job_exit_stopped(void) {
  dojo_job_done();
  fflush(NULL);
  exit(DOJO_JOB_EXIT_STOPPED);
}

const char* dojo_job_run_dir(void) {
  const char* dir = getenv("DOJO_RUN_DIR");
  return dir != NULL ? dir : ".";
}

const char* dojo_job_checkpoint_dir(void) {
  const char* dir = getenv("DOJO_CHECKPOINT_DIR");
  return dir != NULL ? dir : "checkpoints";
}

int dojo_job_attempt(void) {
  return dojo_job_env_int_("DOJO_ATTEMPT", 0);
}
int dojo_job_batch_share(void) {
  return dojo_job_env_int_("DOJO_BATCH_SHARE", 0);
}
int dojo_job_rank(void) {
  return dojo_job_env_int_("RANK", 0);
}
int dojo_job_world_size(void) {
  return dojo_job_env_int_("WORLD_SIZE", 1);
}
int dojo_job_local_rank(void) {
  return dojo_job_env_int_("LOCAL_RANK", 0);
}

#endif /* DOJO_JOB_IMPLEMENTATION */
#endif /* DOJO_JOB_H */

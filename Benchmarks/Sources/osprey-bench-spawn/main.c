// osprey-bench-spawn RESULT COMMAND [ARG...]: runs COMMAND in a process of its own (fork + exec, same stdin,
// stdout and stderr), waits for it, writes "user_seconds system_seconds peak_rss_kib wall_seconds" of COMMAND
// alone to the file RESULT and exits with COMMAND's status.
//
// Why a C helper: on Linux a process's peak RSS (ru_maxrss) starts at the peak RSS of the process it was
// forked from, carried across exec. osprey-bench-report is a Swift program holding the generated input (tens of
// MiB), so a child it spawned directly would report at least that. Forked from this small helper, COMMAND's
// peak RSS is its own (plus the helper's ~1 MiB).
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: osprey-bench-spawn RESULT COMMAND [ARG...]\n");
        return 2;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) { perror("osprey-bench-spawn: fork"); return 2; }
    if (pid == 0) {
        execv(argv[2], argv + 2);
        fprintf(stderr, "osprey-bench-spawn: cannot run %s: %s\n", argv[2], strerror(errno));
        _exit(127);
    }
    int status = 0;
    struct rusage ru;
    while (wait4(pid, &status, 0, &ru) < 0) {
        if (errno != EINTR) { perror("osprey-bench-spawn: wait4"); return 2; }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    FILE *out = fopen(argv[1], "w");
    if (!out) { perror("osprey-bench-spawn: result file"); return 2; }
    fprintf(out, "%ld.%06ld %ld.%06ld %ld %.6f\n", (long)ru.ru_utime.tv_sec, (long)ru.ru_utime.tv_usec,
            (long)ru.ru_stime.tv_sec, (long)ru.ru_stime.tv_usec, ru.ru_maxrss,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    fclose(out);
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

/* clone(2) with CLONE_NEWUSER, which needs no capability: only seccomp can refuse it.
 * Prints "cloned" or "clone: <error>". */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
    long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);
    if (pid < 0) {
        printf("clone: %s\n", strerror(errno));
        return 1;
    }
    if (pid == 0)
        _exit(0);
    waitpid(pid, 0, 0);
    printf("cloned\n");
    return 0;
}

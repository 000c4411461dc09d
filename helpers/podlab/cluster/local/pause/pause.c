/*
 * pause: the first process of every pod sandbox.
 *
 * A pod's containers share namespaces (network, IPC, and optionally PID) that
 * must outlive any single container. The container runtime starts this tiny
 * program first; its only job is to exist, so the namespaces exist.
 *
 *  - It blocks forever in pause(2), using no CPU.
 *  - SIGINT or SIGTERM ends it with status 0 (the sandbox is being removed).
 *  - When the pod shares one PID namespace, it is PID 1 there and inherits
 *    orphaned processes; on SIGCHLD it reaps every exited child so none stay
 *    zombies.
 *  - "-v" prints the version and exits.
 *
 * Written for podlab after the behaviour of Kubernetes' build/pause/linux/pause.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef PAUSE_VERSION
#define PAUSE_VERSION "unknown"
#endif

static void say(const char *text)
{
	/* write(2) is safe inside a signal handler; stdio is not. */
	ssize_t ignored = write(STDERR_FILENO, text, strlen(text));
	(void)ignored;
}

static void stop(int signo)
{
	say(signo == SIGINT ? "pause: got SIGINT, exiting\n" : "pause: got SIGTERM, exiting\n");
	_exit(0);
}

static void reap_children(int signo)
{
	int saved_errno = errno;
	(void)signo;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	errno = saved_errno;
}

static int handle(int signo, void (*handler)(int), int flags)
{
	struct sigaction action;
	memset(&action, 0, sizeof(action));
	action.sa_handler = handler;
	action.sa_flags = flags;
	sigemptyset(&action.sa_mask);
	return sigaction(signo, &action, NULL);
}

int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-v") == 0) {
			printf("pause (podlab) %s\n", PAUSE_VERSION);
			return 0;
		}
	}

	if (handle(SIGINT, stop, 0) < 0 || handle(SIGTERM, stop, 0) < 0 ||
	    handle(SIGCHLD, reap_children, SA_NOCLDSTOP | SA_RESTART) < 0) {
		perror("pause: sigaction");
		return 1;
	}

	/* Only now, with the handlers in place, is it safe to say we are up. */
	if (getpid() != 1)
		say("pause: warning: not running as PID 1 (fine outside a pod)\n");

	for (;;)
		pause();
}

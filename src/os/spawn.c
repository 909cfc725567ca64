/* spawn: programs run from arphad get nothing they should not (see spawn.h). */
#include "os/spawn.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

void spawn_close_inherited(void)
{
	closefrom(3);
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open("/dev/null", O_RDWR);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int spawn_cloexec_all(void)
{
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return 0;
	/* kernels before 5.11: one by one */
	DIR *dir = opendir("/proc/self/fd");
	if (!dir)
		return -1;
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(dir))) {
		char *end;
		long fd = strtol(e->d_name, &end, 10);
		if (*end || end == e->d_name || fd <= 2 || fd == dirfd(dir))
			continue;
		int fl = fcntl((int)fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC) && fcntl((int)fd, F_SETFD, fl | FD_CLOEXEC) < 0)
			rc = -1;
	}
	closedir(dir);
	return rc;
}

/* Every directory above path (as written): owned by root, not writable by others. */
static int check_dirs(const char *script, const char *path, char *err, size_t errlen)
{
	char dir[PATH_MAX];
	if (snprintf(dir, sizeof(dir), "%s", path) >= (int)sizeof(dir)) {
		snprintf(err, errlen, "%s: the path is too long", script);
		return -1;
	}
	for (;;) {
		char *slash = strrchr(dir, '/');
		if (!slash)
			return 0;
		if (slash == dir)
			slash[1] = '\0'; /* the root directory */
		else
			*slash = '\0';
		struct stat st;
		if (stat(dir, &st) < 0) {
			snprintf(err, errlen, "%s: cannot check its directory %s: %s", script, dir,
				 strerror(errno));
			return -1;
		}
		if (st.st_uid != 0) {
			snprintf(
			    err, errlen,
			    "%s is in %s, a directory owned by uid %u, not root (its owner can "
			    "replace the script); fix with: chown root %s, or move the script "
			    "to a directory only root can write, such as /etc/arpha",
			    script, dir, (unsigned)st.st_uid, dir);
			return -1;
		}
		if (st.st_mode & S_ISVTX && st.st_mode & (S_IWGRP | S_IWOTH)) {
			/* /tmp and the like: no place for what root runs (keepalived agrees) */
			snprintf(err, errlen,
				 "%s is in %s, a shared directory others can write to (mode %04o); "
				 "move the script to a directory only root can write, such as "
				 "/etc/arpha",
				 script, dir, (unsigned)(st.st_mode & 07777));
			return -1;
		}
		if (st.st_mode & (S_IWGRP | S_IWOTH)) {
			snprintf(
			    err, errlen,
			    "%s is in %s, a directory writable by group or others (mode %04o); "
			    "fix with: chmod go-w %s, or move the script to a directory only "
			    "root can write, such as /etc/arpha",
			    script, dir, (unsigned)(st.st_mode & 07777), dir);
			return -1;
		}
		if (dir[1] == '\0')
			return 0;
	}
}

int spawn_check(const char *path, char *err, size_t errlen)
{
	struct stat st;
	if (path[0] != '/') {
		snprintf(err, errlen, "%s: expected an absolute path (starting with /)", path);
		return -1;
	}
	if (stat(path, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			snprintf(err, errlen,
				 "%s does not exist; expected an executable file owned by root",
				 path);
		else
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s is not a regular file; expected an executable file",
			 path);
		return -1;
	}
	if (st.st_uid != 0) {
		snprintf(err, errlen,
			 "%s is owned by uid %u, not root (its owner can change what root "
			 "runs); fix with: chown root %s",
			 path, (unsigned)st.st_uid, path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(err, errlen,
			 "%s is writable by group or others (mode %04o; they can change what root "
			 "runs); fix with: chmod go-w %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (!(st.st_mode & S_IXUSR)) {
		snprintf(err, errlen, "%s is not executable (mode %04o); fix with: chmod u+x %s",
			 path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if (check_dirs(path, path, err, errlen) < 0)
		return -1;
	char real[PATH_MAX];
	if (!realpath(path, real)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* through symbolic links: the directories above the file itself */
	if (strcmp(real, path) != 0 && check_dirs(path, real, err, errlen) < 0)
		return -1;
	return 0;
}

pid_t spawn_run(char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	struct sched_param sp = {.sched_priority = 0};
	int rc = posix_spawn_file_actions_init(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	if ((rc = posix_spawnattr_init(&attr)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		errno = rc;
		return -1;
	}
	sigemptyset(&none);
	sigfillset(&all);
	if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
	    (rc = posix_spawn_file_actions_addclosefrom_np(&fa, 3)) != 0 ||
	    (rc = posix_spawnattr_setsigmask(&attr, &none)) != 0 ||
	    (rc = posix_spawnattr_setsigdefault(&attr, &all)) != 0 ||
	    (rc = posix_spawnattr_setschedpolicy(&attr, SCHED_OTHER)) != 0 ||
	    (rc = posix_spawnattr_setschedparam(&attr, &sp)) != 0 ||
	    (rc = posix_spawnattr_setpgroup(&attr, 0)) != 0 ||
	    (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF |
						      POSIX_SPAWN_SETSCHEDULER |
						      POSIX_SPAWN_SETPGROUP)) != 0) {
		posix_spawnattr_destroy(&attr);
		posix_spawn_file_actions_destroy(&fa);
		errno = rc;
		return -1;
	}
	pid_t pid;
	rc = posix_spawn(&pid, argv[0], &fa, &attr, argv, environ);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		return -1;
	}
	return pid;
}

int spawn_kill_group(pid_t pid)
{
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	return kill(-pid, SIGKILL);
}

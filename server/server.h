/*
 * server.h: the entry point of the hearth program. server/ owns the command
 * line, configuration, listeners, TLS driving, HTTP and (later) outbound
 * validation I/O; everything protocol is in acme/.
 */
#ifndef HEARTH_SERVER_H
#define HEARTH_SERVER_H

/* Runs `hearth ARGS...`; returns the process exit status. */
int server_main(int argc, char **argv);

#endif

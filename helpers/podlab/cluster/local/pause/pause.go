//go:build ignore

// pause: fallback for pause.c when gcc cannot link statically. Same behaviour:
// block forever; SIGINT/SIGTERM exit 0; SIGCHLD reaps exited children; -v prints
// the version. Build: CGO_ENABLED=0 go build -trimpath -ldflags=-s -o pause pause.go
package main

import (
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const version = "3.10"

func reapChildren() {
	for {
		var status syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &status, syscall.WNOHANG, nil)
		if pid <= 0 || err != nil {
			return
		}
	}
}

func main() {
	for _, arg := range os.Args[1:] {
		if arg == "-v" {
			fmt.Printf("pause (podlab, go) %s\n", version)
			return
		}
	}
	signals := make(chan os.Signal, 8)
	signal.Notify(signals, syscall.SIGINT, syscall.SIGTERM, syscall.SIGCHLD)
	// Only now, with the handlers in place, is it safe to say we are up.
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pause: warning: not running as PID 1 (fine outside a pod)")
	}
	for sig := range signals {
		if sig == syscall.SIGCHLD {
			reapChildren()
			continue
		}
		fmt.Fprintf(os.Stderr, "pause: got %v, exiting\n", sig)
		os.Exit(0)
	}
}

//go:build !linux

package main

import "os/exec"

// setParentDeath does nothing outside Linux: the driver stops its children
// by PID when it ends, but a driver killed by SIGKILL leaves them running.
func setParentDeath(*exec.Cmd) {}

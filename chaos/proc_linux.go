package main

import (
	"os/exec"
	"syscall"
)

// setParentDeath makes the kernel kill the child if the driver dies without
// stopping it (killed by SIGKILL, say).
func setParentDeath(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}

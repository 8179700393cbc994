package main

import "syscall"

// benchRaiseFileLimit raises the soft limit of open files to the hard
// limit and, when need is higher than that and the process may (root,
// CAP_SYS_RESOURCE), both limits to need. It returns the soft limit now in
// force. Ten thousand sessions take ten thousand descriptors on each side,
// and the simulator also holds a listener per router.
func benchRaiseFileLimit(need uint64) (uint64, error) {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 0, err
	}
	if need > rl.Max {
		up := syscall.Rlimit{Cur: need, Max: need}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &up); err == nil {
			return need, nil
		}
	}
	if rl.Cur < rl.Max {
		rl.Cur = rl.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
			return 0, err
		}
	}
	return rl.Cur, nil
}

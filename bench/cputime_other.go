//go:build !linux

package bench

import "time"

// threadCPU returns the wall clock where thread CPU time is not available.
func threadCPU() time.Duration { return time.Duration(time.Now().UnixNano()) }

// PairClock names the clock [Suite.Paired] measures with.
const PairClock = "wall-clock time"

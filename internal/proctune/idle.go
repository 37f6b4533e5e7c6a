package proctune

import (
	"bytes"
	"math"
	"os"
	"runtime"
	"strconv"
)

// idleMeter measures the machine's idle CPUs between samples, from the
// first line of /proc/stat (the sum over CPUs of the time each spent in
// each state, in ticks).
type idleMeter struct {
	idle, total uint64 // the previous sample's idle and total ticks
	ok          bool   // the previous sample was read
	buf         []byte
}

// sample returns the CPUs idle on average since the previous sample, or
// +Inf when that cannot be told (no previous sample, no /proc/stat).
func (m *idleMeter) sample() float64 {
	idle, total, ok := m.read()
	prevIdle, prevTotal, prevOK := m.idle, m.total, m.ok
	m.idle, m.total, m.ok = idle, total, ok
	if !ok || !prevOK || total <= prevTotal || idle < prevIdle {
		return math.Inf(1)
	}
	return float64(idle-prevIdle) / float64(total-prevTotal) * float64(runtime.NumCPU())
}

func (m *idleMeter) read() (idle, total uint64, ok bool) {
	f, err := os.Open("/proc/stat")
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	if m.buf == nil {
		m.buf = make([]byte, 512)
	}
	n, _ := f.Read(m.buf)
	return parseStat(m.buf[:n])
}

// parseStat reads the aggregate "cpu" line of /proc/stat: idle is its idle
// and iowait columns, total the sum of its columns but guest and
// guest_nice (already counted in user and nice).
func parseStat(b []byte) (idle, total uint64, ok bool) {
	line, _, _ := bytes.Cut(b, []byte{'\n'})
	fields := bytes.Fields(line)
	if len(fields) < 5 || string(fields[0]) != "cpu" {
		return 0, 0, false
	}
	for i, f := range fields[1:min(len(fields), 9)] { // user … steal
		v, err := strconv.ParseUint(string(f), 10, 64)
		if err != nil {
			return 0, 0, false
		}
		total += v
		if i == 3 || i == 4 { // idle, iowait
			idle += v
		}
	}
	return idle, total, true
}

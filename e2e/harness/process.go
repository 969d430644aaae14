package harness

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"
)

// clockTicksPerSecond is USER_HZ, the unit of utime and stime in
// /proc/<pid>/stat. Linux fixes it at 100 on every architecture Go
// supports.
const clockTicksPerSecond = 100

// PID returns the process id of the running Traefik, or 0 once stopped.
func (tr *Traefik) PID() int {
	if tr.cmd == nil || tr.cmd.Process == nil {
		return 0
	}

	return tr.cmd.Process.Pid
}

// ProcessStats is a sample of one process's resource use from /proc.
type ProcessStats struct {
	// CPU is the user plus system time consumed since the process
	// started, at a resolution of 10 ms.
	CPU time.Duration

	// RSS is the resident set size in bytes, and Threads the number of
	// OS threads.
	RSS     int64
	Threads int
}

// ReadProcessStats reads /proc/<pid>/stat and /proc/<pid>/status.
func ReadProcessStats(pid int) (ProcessStats, error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return ProcessStats{}, err
	}

	// The command name, field 2, is in parentheses and may contain
	// spaces, so the fields are counted from after its closing one.
	text := string(stat)
	end := strings.LastIndexByte(text, ')')
	if end < 0 {
		return ProcessStats{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	fields := strings.Fields(text[end+1:])
	// fields[0] is field 3 (state), so utime (14) is fields[11], stime
	// (15) fields[12], num_threads (20) fields[17], rss (24) fields[21].
	if len(fields) < 22 {
		return ProcessStats{}, fmt.Errorf("/proc/%d/stat: %d fields after the command name", pid, len(fields))
	}

	var values [4]int64
	for i, index := range []int{11, 12, 17, 21} {
		if values[i], err = strconv.ParseInt(fields[index], 10, 64); err != nil {
			return ProcessStats{}, fmt.Errorf("/proc/%d/stat field %d: %w", pid, index+3, err)
		}
	}

	ticks := values[0] + values[1]

	return ProcessStats{
		CPU:     time.Duration(ticks) * time.Second / clockTicksPerSecond,
		Threads: int(values[2]),
		RSS:     values[3] * int64(os.Getpagesize()),
	}, nil
}

// Goroutines returns the number of goroutines in Traefik, from the
// goroutine profile that TraefikOptions.Debug exposes.
func (tr *Traefik) Goroutines() (int, error) {
	if tr.DebugAddr == "" {
		return 0, fmt.Errorf("traefik was started without TraefikOptions.Debug")
	}

	client := &http.Client{Timeout: 10 * time.Second}
	resp, err := client.Get("http://" + tr.DebugAddr + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()

	// The first line reads "goroutine profile: total N".
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil {
		return 0, fmt.Errorf("read goroutine profile: %w", err)
	}
	count, found := strings.CutPrefix(strings.TrimSpace(line), "goroutine profile: total ")
	if resp.StatusCode != http.StatusOK || !found {
		return 0, fmt.Errorf("goroutine profile: status %d, first line %q", resp.StatusCode, line)
	}

	return strconv.Atoi(count)
}

package internalauth

import (
	"fmt"
	"log"
	"os"
	"sync"
	"time"
)

// Rejection logs are limited per reason: the first logBurst rejections of
// a reason in each logWindow are logged, and the rest are counted and
// reported by the first rejection logged after the window ends.
const (
	logBurst  = 5
	logWindow = time.Minute
)

// logger writes the middleware's lines to standard error, where Traefik
// collects plugin output.
var logger = log.New(os.Stderr, "", log.LstdFlags)

// rejectionLog rate-limits rejection lines of one middleware.
type rejectionLog struct {
	mu          sync.Mutex
	name        string
	windowStart time.Time
	logged      map[string]int
	suppressed  map[string]int
	// output writes one line. It takes a formatted string because yaegi
	// v0.16.1 panics when a variadic function stored in a field is called.
	output func(line string)
}

func newRejectionLog(name string) *rejectionLog {
	return &rejectionLog{
		name:       name,
		logged:     make(map[string]int),
		suppressed: make(map[string]int),
		output:     func(line string) { logger.Print(line) },
	}
}

// record logs one rejection unless its reason exceeded the limit in the
// current window. Values that come from the request are quoted.
func (l *rejectionLog) record(now time.Time, status int, reason, client, keyID, path string) {
	l.mu.Lock()
	defer l.mu.Unlock()

	if now.Sub(l.windowStart) >= logWindow {
		l.flush()
		l.windowStart = now
	}

	if l.logged[reason] >= logBurst {
		l.suppressed[reason]++

		return
	}

	l.logged[reason]++
	l.output(fmt.Sprintf("internalauth: %s: rejected status=%d reason=%s client=%s keyid=%s path=%s",
		l.name, status, reason, quoteLimited(client), quoteLimited(keyID), quoteLimited(path)))
}

func (l *rejectionLog) flush() {
	for reason, count := range l.suppressed {
		l.output(fmt.Sprintf("internalauth: %s: %d more rejections with reason=%s were not logged in the last %s",
			l.name, count, reason, logWindow))
	}

	l.logged = make(map[string]int)
	l.suppressed = make(map[string]int)
}

// quoteLimited quotes s for a log line, cut to 128 bytes.
func quoteLimited(s string) string {
	const limit = 128
	if len(s) > limit {
		return fmt.Sprintf("%q...", s[:limit])
	}

	return fmt.Sprintf("%q", s)
}

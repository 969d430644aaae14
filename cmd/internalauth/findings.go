package main

import (
	"fmt"
	"io"
)

type severity int

const (
	severityError severity = iota
	severityWarning

	// severityInfo marks a fact for the operator, such as the HMAC key's
	// check value. It never counts as an error, even under --strict.
	severityInfo
)

// finding is one problem that check or render reports. subject is the
// variable, or the env file and line, that the problem is about.
type finding struct {
	severity severity
	subject  string
	message  string
}

func errorf(subject, format string, args ...any) finding {
	return finding{severity: severityError, subject: subject, message: fmt.Sprintf(format, args...)}
}

func warningf(subject, format string, args ...any) finding {
	return finding{severity: severityWarning, subject: subject, message: fmt.Sprintf(format, args...)}
}

func infof(subject, format string, args ...any) finding {
	return finding{severity: severityInfo, subject: subject, message: fmt.Sprintf(format, args...)}
}

func (f finding) String() string {
	prefix := "error"

	switch f.severity {
	case severityWarning:
		prefix = "warning"
	case severityInfo:
		prefix = "info"
	}

	return fmt.Sprintf("%s: %s: %s", prefix, f.subject, f.message)
}

// countFindings returns the number of errors and warnings, counting
// warnings as errors when strict is set. Informational findings are not
// counted.
func countFindings(findings []finding, strict bool) (errors, warnings int) {
	for _, f := range findings {
		switch {
		case f.severity == severityInfo:
		case f.severity == severityError || strict:
			errors++
		default:
			warnings++
		}
	}

	return errors, warnings
}

// printFindings writes one line per finding. Under strict, warnings are
// printed with the error prefix, since they fail the command.
func printFindings(w io.Writer, findings []finding, strict bool) {
	for _, f := range findings {
		if strict && f.severity == severityWarning {
			f.severity = severityError
		}

		fmt.Fprintln(w, f)
	}
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}

	return fmt.Sprintf("%d %ss", n, word)
}

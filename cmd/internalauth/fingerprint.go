package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/internalauth/internalauth"
)

// maxCertificateFileBytes bounds what fingerprint reads from one file.
const maxCertificateFileBytes = 4 << 20

func runFingerprint(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	flags := flag.NewFlagSet("internalauth fingerprint", flag.ContinueOnError)
	flags.SetOutput(stderr)

	plain := flags.Bool("plain", false, "print only the pins, one per line, without comments")
	flags.Usage = func() { fingerprintUsage(flags) }

	if err := flags.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}

		return exitUsage
	}

	if flags.NArg() == 0 {
		fmt.Fprintln(stderr, "internalauth fingerprint: missing certificate file; "+
			"give the path of the client certificate, such as client.crt, or - for standard input")

		return exitUsage
	}

	status := exitOK

	for _, path := range flags.Args() {
		if err := printFingerprints(path, stdin, stdout, stderr, *plain); err != nil {
			fmt.Fprintf(stderr, "internalauth fingerprint: %v\n", err)

			status = exitFailure
		}
	}

	return status
}

func fingerprintUsage(flags *flag.FlagSet) {
	w := flags.Output()
	fmt.Fprintln(w, "Usage: internalauth fingerprint [--plain] CERT...")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Prints the two pins the middleware accepts for each certificate in CERT:")
	fmt.Fprintln(w, "the SHA-256 of the DER certificate in colon-separated hex, which changes when")
	fmt.Fprintln(w, "the certificate is renewed, and the SHA-256 of its public key as")
	fmt.Fprintln(w, "sha256//<base64>, which stays the same while the key does. Put one of them")
	fmt.Fprintln(w, "in the middleware's pins list. CERT is a PEM file, which may hold several")
	fmt.Fprintln(w, "certificates, or a DER file; - reads standard input.")
	fmt.Fprintln(w)
	flags.PrintDefaults()
}

// printFingerprints prints the pins of every certificate in one file.
func printFingerprints(path string, stdin io.Reader, stdout, stderr io.Writer, plain bool) error {
	data, err := readCertificateFile(path, stdin)
	if err != nil {
		return err
	}

	certs, err := parseCertificates(path, data)
	if err != nil {
		return err
	}

	for i, cert := range certs {
		certificatePin, publicKeyPin := internalauth.CertificatePins(cert)

		for _, warning := range certificateWarnings(cert, time.Now()) {
			fmt.Fprintf(stderr, "internalauth fingerprint: %s, certificate %d: warning: %s\n", path, i+1, warning)
		}

		if plain {
			fmt.Fprintln(stdout, certificatePin)
			fmt.Fprintln(stdout, publicKeyPin)

			continue
		}

		if i > 0 {
			fmt.Fprintln(stdout)
		}

		fmt.Fprintf(stdout, "# %s, certificate %d of %d: subject %q, issuer %q, valid until %s\n",
			path, i+1, len(certs), cert.Subject.String(), cert.Issuer.String(),
			cert.NotAfter.UTC().Format(time.RFC3339))
		fmt.Fprintln(stdout, "# SHA-256 of the certificate, which changes when it is renewed:")
		fmt.Fprintf(stdout, "- %q\n", certificatePin)
		fmt.Fprintln(stdout, "# SHA-256 of the public key, which stays the same while the key does:")
		fmt.Fprintf(stdout, "- %q\n", publicKeyPin)
	}

	return nil
}

func readCertificateFile(path string, stdin io.Reader) ([]byte, error) {
	var reader io.Reader

	if path == "-" {
		reader = stdin
	} else {
		file, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("cannot open certificate: %w; give the path of a PEM or DER certificate file", err)
		}
		defer file.Close()

		reader = file
	}

	data, err := io.ReadAll(io.LimitReader(reader, maxCertificateFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %w", path, err)
	}

	if len(data) > maxCertificateFileBytes {
		return nil, fmt.Errorf("%s is larger than %d bytes, too large for a certificate file", path, maxCertificateFileBytes)
	}

	return data, nil
}

// parseCertificates returns the certificates of a PEM bundle, in file
// order, or of DER input. A private key in the file is an error, because
// a file that mixes both should not be handed around for pinning.
func parseCertificates(path string, data []byte) ([]*x509.Certificate, error) {
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, fmt.Errorf("%s is empty; give a PEM or DER certificate file", path)
	}

	if !bytes.Contains(data, []byte("-----BEGIN")) {
		certs, err := x509.ParseCertificates(data)
		if err != nil {
			return nil, fmt.Errorf("%s is neither PEM nor a DER certificate: %w", path, err)
		}

		return certs, nil
	}

	var certs []*x509.Certificate

	rest := data

	for {
		var block *pem.Block

		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}

		if strings.Contains(block.Type, "PRIVATE KEY") {
			return nil, fmt.Errorf("%s contains a private key (%s block); "+
				"pin from a file that holds only the certificate, and keep the key out of shared files", path, block.Type)
		}

		if block.Type != "CERTIFICATE" {
			continue
		}

		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d is invalid: %w", path, len(certs)+1, err)
		}

		certs = append(certs, cert)
	}

	if len(certs) == 0 {
		return nil, fmt.Errorf("%s has no CERTIFICATE block; give the client certificate in PEM or DER", path)
	}

	return certs, nil
}

// certificateWarnings lists what makes cert a poor pin: the middleware
// pins the client's own (leaf) certificate, which must allow client
// authentication and be valid now.
func certificateWarnings(cert *x509.Certificate, now time.Time) []string {
	var warnings []string

	if cert.IsCA {
		warnings = append(warnings, "this is a CA certificate; the middleware compares pins with the "+
			"client's own certificate, so pin the client certificate instead")
	}

	if len(cert.ExtKeyUsage) > 0 && !hasClientAuth(cert.ExtKeyUsage) {
		warnings = append(warnings, "the extended key usage does not include clientAuth, "+
			"so a TLS server verifying client certificates rejects it")
	}

	if now.After(cert.NotAfter) {
		warnings = append(warnings, "expired on "+cert.NotAfter.UTC().Format(time.RFC3339))
	}

	if now.Before(cert.NotBefore) {
		warnings = append(warnings, "not valid before "+cert.NotBefore.UTC().Format(time.RFC3339))
	}

	return warnings
}

func hasClientAuth(usages []x509.ExtKeyUsage) bool {
	for _, usage := range usages {
		if usage == x509.ExtKeyUsageClientAuth || usage == x509.ExtKeyUsageAny {
			return true
		}
	}

	return false
}

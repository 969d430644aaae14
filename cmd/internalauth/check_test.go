package main

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/internalauth/internalauth"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// checkFixture is a valid deployment: every rule passes for both roles
// that open the route.
type checkFixture struct {
	dir        string
	clientCA   *testCertificate
	standardCA *testCertificate
	serverCA   *testCertificate
	server     *testCertificate
	vars       map[string]string
}

func newCheckFixture(t *testing.T) *checkFixture {
	t.Helper()

	f := &checkFixture{dir: t.TempDir()}
	f.clientCA = newTestCA(t, "dedicated client CA")
	f.standardCA = newTestCA(t, "standard internal CA")
	f.serverCA = newTestCA(t, "server CA")
	f.server = newServerCertificate(t, f.serverCA, testInternalHost)

	client := issue(t, certificateSpec{
		commonName: "automation",
		extUsage:   []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, f.clientCA)
	pin, _ := internalauth.CertificatePins(client.cert)

	f.vars = map[string]string{
		varEnabled:          "true",
		varURL:              testInternalHost,
		varPortalURL:        testPortalHost,
		varAPIHost:          testAPIHost,
		varRestrictIP:       "10.0.0.0/8,192.168.10.20/32",
		varSSLCert:          writeCertificates(t, f.dir, "server.crt", f.server),
		varSSLKey:           writeKey(t, f.dir, "server.key", f.server.key),
		varSSLCA:            writeCertificates(t, f.dir, "client_ca.crt", f.clientCA),
		varStandardCA:       writeCertificates(t, f.dir, "standard_ca.crt", f.standardCA),
		varHMAC:             hex.EncodeToString(bytes.Repeat([]byte{0x5a}, 32)),
		varHMACEncoding:     "hex",
		varClientPins:       pin,
		varPublicTLSOptions: "internal@file",
	}

	return f
}

// useServer replaces the server certificate and key files.
func (f *checkFixture) useServer(t *testing.T, server *testCertificate) {
	t.Helper()

	f.vars[varSSLCert] = writeCertificates(t, f.dir, "server.crt", server)
	f.vars[varSSLKey] = writeKey(t, f.dir, "server.key", server.key)
}

func environFrom(vars map[string]string) []string {
	environ := make([]string, 0, len(vars))
	for name, value := range vars {
		environ = append(environ, name+"="+value)
	}

	return environ
}

// checkResult is what one run of check printed and returned.
type checkResult struct {
	code     int
	stdout   string
	stderr   string
	findings []finding
}

func runCheckWith(t *testing.T, vars map[string]string, args ...string) checkResult {
	t.Helper()

	var stdout, stderr bytes.Buffer

	code := check(args, strings.NewReader(""), &stdout, &stderr, environFrom(vars), time.Now())

	return checkResult{code: code, stdout: stdout.String(), stderr: stderr.String(), findings: parseFindings(stdout.String())}
}

// parseFindings reads back the error: and warning: lines of check.
func parseFindings(output string) []finding {
	var findings []finding

	for _, line := range strings.Split(output, "\n") {
		var f finding

		switch {
		case strings.HasPrefix(line, "error: "):
			f.severity, line = severityError, strings.TrimPrefix(line, "error: ")
		case strings.HasPrefix(line, "warning: "):
			f.severity, line = severityWarning, strings.TrimPrefix(line, "warning: ")
		default:
			continue
		}

		f.subject, f.message, _ = strings.Cut(line, ": ")
		findings = append(findings, f)
	}

	return findings
}

func subjectsOf(findings []finding, sev severity) []string {
	var subjects []string

	for _, f := range findings {
		if f.severity == sev {
			subjects = append(subjects, f.subject)
		}
	}

	return subjects
}

func TestCheckValidDeploymentPasses(t *testing.T) {
	for _, role := range []string{roleInfraManager, roleAPIManager} {
		t.Run(role, func(t *testing.T) {
			f := newCheckFixture(t)

			result := runCheckWith(t, f.vars, "--role", role, "--strict")

			assert.Equal(t, exitOK, result.code, result.stdout)
			assert.Empty(t, result.findings)
			assert.Contains(t, result.stdout, "dedicated route on "+testInternalHost+": 0 errors, 0 warnings")
		})
	}
}

type checkCase struct {
	name     string
	role     string // default infra_manager
	edit     func(t *testing.T, f *checkFixture)
	severity severity
	subject  string
	text     string // a part of the message
}

func setVar(name, value string) func(*testing.T, *checkFixture) {
	return func(_ *testing.T, f *checkFixture) {
		if value == "" {
			delete(f.vars, name)

			return
		}

		f.vars[name] = value
	}
}

func runCheckCases(t *testing.T, cases []checkCase) {
	t.Helper()

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			tc.edit(t, f)

			role := tc.role
			if role == "" {
				role = roleInfraManager
			}

			result := runCheckWith(t, f.vars, "--role", role)

			want := exitOK
			if tc.severity == severityError {
				want = exitFailure
			}

			assert.Equal(t, want, result.code, result.stdout)
			assert.Contains(t, subjectsOf(result.findings, tc.severity), tc.subject, result.stdout)
			assert.Contains(t, result.stdout, tc.text)
			if key := f.vars[varHMAC]; len(key) >= 8 {
				assert.NotContains(t, result.stdout, key, "the HMAC key must never be printed")
			}
		})
	}
}

func TestCheckHostnameRules(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"url missing", "", setVar(varURL, ""), severityError, varURL, "missing"},
		{"url scheme", "", setVar(varURL, "https://apiinternal.example.test"), severityError, varURL, "scheme"},
		{"url port", "", setVar(varURL, "apiinternal.example.test:8443"), severityError, varURL, "port"},
		{"url path", "", setVar(varURL, "apiinternal.example.test/api"), severityError, varURL, "path"},
		{"url wildcard", "", setVar(varURL, "*.example.test"), severityError, varURL, "wildcard"},
		{"url ip address", "", setVar(varURL, "192.0.2.10"), severityError, varURL, "IP address"},
		{"url invalid label", "", setVar(varURL, "api_internal.example.test"), severityError, varURL, "not a valid hostname"},
		{"url same as portal", "", setVar(varURL, "Portal.Example.Test."), severityError, varURL, "is also PORTAL_URL"},
		{"url same as api host", roleAPIManager, setVar(varURL, testAPIHost), severityError, varURL, "is also API_DOCKER_NAME"},
		{"url same as api host infra", "", setVar(varURL, testAPIHost+"."), severityError, varURL, "is also API_DOCKER_NAME"},
		{"portal missing infra", "", setVar(varPortalURL, ""), severityError, varPortalURL, "catch-all"},
		{"portal wildcard infra", "", setVar(varPortalURL, "*.example.test"), severityError, varPortalURL, "wildcard"},
		{"api host missing split", roleAPIManager, setVar(varAPIHost, ""), severityError, varAPIHost, "missing"},
		{"api host scheme split", roleAPIManager, setVar(varAPIHost, "https://api"), severityError, varAPIHost, "scheme"},
		{"enabled invalid", "", setVar(varEnabled, "yes"), severityError, varEnabled, "use true or false"},
		{"enabled one", "", setVar(varEnabled, "1"), severityError, varEnabled, `invalid value "1"; use true or false, in any letter case`},
		{"tls options unset split", roleAPIManager, setVar(varPublicTLSOptions, ""), severityWarning, varPublicTLSOptions, "default TLS option"},
		{"tls options invalid", "", setVar(varPublicTLSOptions, "internal@file@x"), severityError, varPublicTLSOptions, "invalid"},
	})
}

func TestCheckPortalOptionalInSplit(t *testing.T) {
	f := newCheckFixture(t)
	delete(f.vars, varPortalURL)

	result := runCheckWith(t, f.vars, "--role", roleAPIManager, "--strict")

	assert.Equal(t, exitOK, result.code, result.stdout)
	assert.Empty(t, result.findings)
}

func TestCheckSourceRangeRules(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"invalid range", "", setVar(varRestrictIP, "10.0.0.0/33"), severityError, varRestrictIP, "not a CIDR range"},
		{"hostname", "", setVar(varRestrictIP, "10.0.0.0/8,ops.example.test"), severityError, varRestrictIP, "entry 2"},
		{"empty entry", "", setVar(varRestrictIP, "10.0.0.0/8,"), severityError, varRestrictIP, "entry 2 is empty"},
		{"ip with zone", "", setVar(varRestrictIP, "fe80::1%eth0"), severityError, varRestrictIP, "not a CIDR range"},
		{"bare ipv4", "", setVar(varRestrictIP, "192.168.10.20"), severityWarning, varRestrictIP, "used as 192.168.10.20/32"},
		{"bare ipv6", "", setVar(varRestrictIP, "2001:db8::1"), severityWarning, varRestrictIP, "used as 2001:db8::1/128"},
		{"all ipv4", "", setVar(varRestrictIP, "0.0.0.0/0"), severityWarning, varRestrictIP, "every IPv4 address"},
		{"all ipv6", "", setVar(varRestrictIP, "::/0"), severityWarning, varRestrictIP, "every IPv6 address"},
		{"all mapped ipv4", "", setVar(varRestrictIP, "::ffff:0:0/96"), severityWarning, varRestrictIP, "every IPv4 address"},
		{"wide ipv4", "", setVar(varRestrictIP, "10.0.0.0/8,64.0.0.0/2"), severityWarning, varRestrictIP, "very wide"},
		{"wide mapped ipv4", "", setVar(varRestrictIP, "::ffff:64.0.0.0/98"), severityWarning, varRestrictIP, "very wide"},
		{"wide ipv6", "", setVar(varRestrictIP, "2000::/8"), severityWarning, varRestrictIP, "very wide"},
		{"host bits", "", setVar(varRestrictIP, "10.1.2.3/8"), severityWarning, varRestrictIP, "write 10.0.0.0/8"},
		{"filter off", "", setVar(varRestrictIP, ""), severityWarning, varRestrictIP, "the IP filter is off"},
		{"filter blank", "", setVar(varRestrictIP, " "), severityWarning, varRestrictIP, "the IP filter is off"},
	})
}

func TestCheckServerCertificateRules(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"key without cert", "", setVar(varSSLCert, ""), severityError, varSSLCert, "missing while API_INTERNAL_SSL_KEY is set"},
		{"cert without key", "", setVar(varSSLKey, ""), severityError, varSSLKey, "missing while API_INTERNAL_SSL_CERT is set"},
		{"ca without cert", "", func(t *testing.T, f *checkFixture) {
			delete(f.vars, varSSLCert)
			delete(f.vars, varSSLKey)
		}, severityError, varSSLCert, "missing while API_INTERNAL_SSL_CA is set, so Traefik presents its default certificate"},
		{"no cert and no ca", "", func(t *testing.T, f *checkFixture) {
			delete(f.vars, varSSLCert)
			delete(f.vars, varSSLKey)
			delete(f.vars, varSSLCA)
		}, severityWarning, varSSLCert, "curl --cacert reject"},
		{"cert file missing", "", setVar(varSSLCert, "/nonexistent/server.crt"), severityError, varSSLCert, "cannot open"},
		{"key file missing", "", setVar(varSSLKey, "/nonexistent/server.key"), severityError, varSSLKey, "cannot open"},
		{"cert not pem", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLCert] = writeTestFile(t, f.dir, "server.crt", []byte("not a certificate\n"))
		}, severityError, varSSLCert, "no PEM certificate"},
		{"cert wrong san", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, newServerCertificate(t, f.serverCA, "other.example.test"))
		}, severityError, varSSLCert, "not valid for " + testInternalHost},
		{"cert common name only", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, newServerCertificate(t, f.serverCA))
		}, severityError, varSSLCert, "a common name alone"},
		{"wildcard too deep", "", func(t *testing.T, f *checkFixture) {
			f.vars[varURL] = "deep." + testInternalHost
			f.useServer(t, newServerCertificate(t, f.serverCA, "*.example.test"))
		}, severityError, varSSLCert, "a wildcard covers one label only"},
		{"partial wildcard", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, newServerCertificate(t, f.serverCA, "api*.example.test"))
		}, severityError, varSSLCert, "not valid for"},
		{"mismatched key", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLKey] = writeKey(t, f.dir, "other.key", newTestKey(t))
		}, severityError, varSSLKey, "does not match"},
		{"key not pem", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLKey] = writeCertificates(t, f.dir, "cert-as-key.pem", f.server)
		}, severityError, varSSLKey, "no PEM private key"},
		{"encrypted key", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLKey] = writeTestFile(t, f.dir, "encrypted.key",
				pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{0x30, 0}}))
		}, severityError, varSSLKey, "encrypted"},
		{"expired", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{
				dnsNames: []string{testInternalHost}, notBefore: time.Now().Add(-48 * time.Hour),
				notAfter: time.Now().Add(-24 * time.Hour),
			}, f.serverCA))
		}, severityError, varSSLCert, "expired"},
		{"not yet valid", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{
				dnsNames: []string{testInternalHost}, notBefore: time.Now().Add(24 * time.Hour),
			}, f.serverCA))
		}, severityError, varSSLCert, "not valid before"},
		{"expires soon", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{
				dnsNames: []string{testInternalHost}, notAfter: time.Now().Add(10 * 24 * time.Hour),
			}, f.serverCA))
		}, severityWarning, varSSLCert, "in less than 30 days"},
		{"client auth only", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{
				dnsNames: []string{testInternalHost}, extUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
			}, f.serverCA))
		}, severityError, varSSLCert, "excludes serverAuth"},
		{"ca certificate first", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{
				dnsNames: []string{testInternalHost}, isCA: true, keyUsage: x509.KeyUsageCertSign,
			}, f.serverCA))
		}, severityWarning, varSSLCert, "is a CA certificate"},
		{"issued by client ca", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, issue(t, certificateSpec{dnsNames: []string{testInternalHost}}, f.clientCA))
		}, severityWarning, varSSLCert, "issued by \"dedicated client CA\", the client CA"},
		{"server auth cert issued by client ca", "", func(t *testing.T, f *checkFixture) {
			f.useServer(t, newServerCertificate(t, f.clientCA, testInternalHost))
		}, severityWarning, varSSLCA, "\"dedicated client CA\" also issued the server certificate"},
		{"pin of server certificate", "", func(t *testing.T, f *checkFixture) {
			pin, _ := internalauth.CertificatePins(f.server.cert)
			f.vars[varClientPins] += "," + strings.ToLower(strings.ReplaceAll(pin, ":", ""))
		}, severityWarning, varClientPins, "is a pin of the server certificate"},
		{"pin of server key", "", func(t *testing.T, f *checkFixture) {
			_, pin := internalauth.CertificatePins(f.server.cert)
			f.vars[varClientPins] = "SHA256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=;" + pin + "," + f.vars[varClientPins]
		}, severityWarning, varClientPins, "is a pin of the server certificate"},
	})
}

func TestCheckKeyTypesMatch(t *testing.T) {
	cases := []struct {
		name     string
		key      func(*testing.T) crypto.Signer
		otherKey func(*testing.T) crypto.Signer
	}{
		{"rsa", newRSAKey, newTestKey},
		{"ecdsa", newTestKey, newTestKey},
		{"ed25519", newEd25519Key, newEd25519Key},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			f.useServer(t, issue(t, certificateSpec{dnsNames: []string{testInternalHost}, key: tc.key(t)}, f.serverCA))

			result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")
			assert.Equal(t, exitOK, result.code, result.stdout)

			f.vars[varSSLKey] = writeKey(t, f.dir, "other.key", tc.otherKey(t))

			result = runCheckWith(t, f.vars, "--role", roleInfraManager)
			assert.Equal(t, exitFailure, result.code, result.stdout)
			assert.Equal(t, []string{varSSLKey}, subjectsOf(result.findings, severityError))
		})
	}
}

func TestCheckWildcardCertificateMatches(t *testing.T) {
	f := newCheckFixture(t)
	f.useServer(t, newServerCertificate(t, f.serverCA, "*.example.test"))
	f.vars[varURL] = "APIInternal.Example.Test."

	result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")

	assert.Equal(t, exitOK, result.code, result.stdout)
}

func TestCheckCARules(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"ca unset", "", setVar(varSSLCA, ""), severityWarning, varSSLCA, "pin alone"},
		{"ca file missing", "", setVar(varSSLCA, "/nonexistent/ca.crt"), severityError, varSSLCA, "cannot open"},
		{"ca not pem", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLCA] = writeTestFile(t, f.dir, "ca.crt", []byte("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"))
		}, severityError, varSSLCA, "certificate 1 is invalid"},
		{"ca not a ca", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLCA] = writeCertificates(t, f.dir, "ca.crt", f.server)
		}, severityError, varSSLCA, "not a CA certificate"},
		{"ca without cert sign", "", func(t *testing.T, f *checkFixture) {
			ca := issue(t, certificateSpec{commonName: "crl signer", isCA: true, keyUsage: x509.KeyUsageCRLSign}, nil)
			f.vars[varSSLCA] = writeCertificates(t, f.dir, "ca.crt", ca)
		}, severityError, varSSLCA, "without keyCertSign"},
		{"ca expired", "", func(t *testing.T, f *checkFixture) {
			ca := issue(t, certificateSpec{
				commonName: "old CA", isCA: true, keyUsage: x509.KeyUsageCertSign,
				notBefore: time.Now().Add(-48 * time.Hour), notAfter: time.Now().Add(-time.Hour),
			}, nil)
			f.vars[varSSLCA] = writeCertificates(t, f.dir, "ca.crt", ca)
		}, severityError, varSSLCA, "expired"},
		{"ca same as standard", "", func(t *testing.T, f *checkFixture) {
			f.vars[varSSLCA] = f.vars[varStandardCA]
		}, severityError, varSSLCA, "is also in API_INTERNAL_STANDARD_CA"},
		{"ca in standard bundle", "", func(t *testing.T, f *checkFixture) {
			f.vars[varStandardCA] = writeCertificates(t, f.dir, "bundle.crt", f.standardCA, f.clientCA)
		}, severityError, varSSLCA, "is also in API_INTERNAL_STANDARD_CA"},
		{"ca same key as standard", "", func(t *testing.T, f *checkFixture) {
			ca := issue(t, certificateSpec{
				commonName: "reissued", isCA: true, keyUsage: x509.KeyUsageCertSign, key: f.standardCA.key,
			}, nil)
			f.vars[varSSLCA] = writeCertificates(t, f.dir, "ca.crt", ca)
		}, severityError, varSSLCA, "same key"},
		{"standard issued by dedicated", "", func(t *testing.T, f *checkFixture) {
			intermediate := issue(t, certificateSpec{
				commonName: "standard intermediate", isCA: true, keyUsage: x509.KeyUsageCertSign,
			}, f.clientCA)
			f.vars[varStandardCA] = writeCertificates(t, f.dir, "standard.crt", intermediate)
		}, severityError, varSSLCA, "chain to it"},
		{"standard ca missing file", "", setVar(varStandardCA, "/nonexistent/standard.crt"), severityError, varStandardCA, "cannot open"},
	})
}

func TestCheckSecretAndPinRules(t *testing.T) {
	runCheckCases(t, []checkCase{
		{"hmac missing", "", setVar(varHMAC, ""), severityError, varHMAC, "missing"},
		{"hmac short", "", setVar(varHMAC, hex.EncodeToString(make([]byte, 31))), severityError, varHMAC, "31 bytes after hex decoding"},
		{"hmac not hex", "", setVar(varHMAC, strings.Repeat("zz", 32)), severityError, varHMAC, "not valid hex"},
		{"hmac short raw", "", func(_ *testing.T, f *checkFixture) {
			f.vars[varHMAC] = "0123456789abcdef0123456789abcde"
			f.vars[varHMACEncoding] = "raw"
		}, severityError, varHMAC, "31 bytes after raw decoding"},
		{"hmac raw spaces", "", func(_ *testing.T, f *checkFixture) {
			f.vars[varHMAC] = " 0123456789abcdef0123456789abcdef"
			f.vars[varHMACEncoding] = ""
		}, severityWarning, varHMAC, "white space"},
		{"hmac bad base64", "", func(_ *testing.T, f *checkFixture) {
			f.vars[varHMACEncoding] = "base64"
			f.vars[varHMAC] = "%%%%"
		}, severityError, varHMAC, "not valid base64"},
		{"hmac encoding invalid", "", setVar(varHMACEncoding, "base32"), severityError, varHMACEncoding, "use raw, base64 or hex"},
		{"hex key declared base64", "", setVar(varHMACEncoding, "base64"), severityWarning, varHMAC,
			"is declared base64 but consists of 64 hex digits"},
		{"key id invalid", "", setVar(varHMACKeyID, "ops key"), severityError, varHMACKeyID, "printable"},
		{"pins missing", "", setVar(varClientPins, ""), severityError, varClientPins, "missing"},
		{"pin sha1", "", setVar(varClientPins, strings.Repeat("ab", 20)), severityError, varClientPins, "SHA-1"},
		{"pin second invalid", "", func(_ *testing.T, f *checkFixture) {
			f.vars[varClientPins] += ",sha256//notbase64!"
		}, severityError, varClientPins, "entry 2"},
		{"pin twice", "", func(_ *testing.T, f *checkFixture) {
			f.vars[varClientPins] += ", " + strings.ToLower(f.vars[varClientPins])
		}, severityWarning, varClientPins, "listed twice"},
	})
}

func TestCheckBase64KeyPasses(t *testing.T) {
	f := newCheckFixture(t)
	f.vars[varHMACEncoding] = "base64"
	f.vars[varHMAC] = "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="

	result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")

	assert.Equal(t, exitOK, result.code, result.stdout)
}

func TestCheckRolesWithoutRoute(t *testing.T) {
	f := newCheckFixture(t)
	f.vars[varURL] = "https://invalid"

	result := runCheckWith(t, f.vars, "--role", rolePortalManager, "--strict")
	assert.Equal(t, exitOK, result.code, result.stdout)
	assert.Contains(t, result.stdout, "no route for /api/internal is opened in this role")

	f.vars[varEnabled] = "false"
	result = runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")
	assert.Equal(t, exitOK, result.code, result.stdout)
	assert.Contains(t, result.stdout, "API_INTERNAL_ENABLED is not true")

	delete(f.vars, varEnabled)
	result = runCheckWith(t, f.vars, "--role", roleAPIManager, "--strict")
	assert.Equal(t, exitOK, result.code, result.stdout)
}

func TestCheckStrictFailsOnWarning(t *testing.T) {
	f := newCheckFixture(t)
	f.vars[varRestrictIP] = "192.168.10.20"

	result := runCheckWith(t, f.vars, "--role", roleInfraManager)
	assert.Equal(t, exitOK, result.code, result.stdout)
	assert.Equal(t, []string{varRestrictIP}, subjectsOf(result.findings, severityWarning))

	result = runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")
	assert.Equal(t, exitFailure, result.code, result.stdout)
	assert.Equal(t, []string{varRestrictIP}, subjectsOf(result.findings, severityError))
	assert.Contains(t, result.stdout, "1 error, 0 warnings")
}

func TestCheckUsageErrors(t *testing.T) {
	cases := []struct {
		name    string
		args    []string
		message string
	}{
		{"no role", []string{}, "internalauth check: missing --role: give infra_manager, api_manager or portal_manager\n"},
		{"empty role", []string{"--role", ""}, "missing --role: give infra_manager"},
		{"unknown role", []string{"--role", "standalone"}, `--role "standalone" is invalid: give infra_manager`},
		{"unknown flag", []string{"--role", roleInfraManager, "--verbose"}, "flag provided but not defined"},
		{"extra argument", []string{"--role", roleInfraManager, ".env"}, "unexpected argument"},
		{"missing env file", []string{"--role", roleInfraManager, "--env-file", "/nonexistent/.env"}, "cannot open env file"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			result := runCheckWith(t, nil, tc.args...)

			assert.Equal(t, exitUsage, result.code)
			assert.Contains(t, result.stderr, tc.message)
			assert.NotContains(t, result.stderr, `--role ""`)
			assert.Empty(t, result.stdout)
		})
	}
}

func TestCheckEnvFileOverridesEnvironment(t *testing.T) {
	f := newCheckFixture(t)
	f.vars[varRestrictIP] = "10.0.0.0/8"
	envFile := filepath.Join(f.dir, "deploy.env")
	writeTestFile(t, f.dir, "deploy.env", []byte("# deployment\nAPI_INTERNAL_URL=\"other.example.test\"\n"+
		"API_INTERNAL_RESTRICT_IP=10.0.0.0/8 # the automation network\n"))

	result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--env-file", envFile)

	assert.Equal(t, exitFailure, result.code, result.stdout)
	assert.Contains(t, subjectsOf(result.findings, severityWarning), varURL)
	assert.Contains(t, subjectsOf(result.findings, severityError), varSSLCert, "the file's hostname is checked")
	assert.Contains(t, result.stdout, "not valid for other.example.test")
	assert.NotContains(t, subjectsOf(result.findings, severityWarning), varRestrictIP)
}

func TestCheckEnvFileSyntaxError(t *testing.T) {
	f := newCheckFixture(t)
	envFile := writeTestFile(t, f.dir, "bad.env", []byte("API_INTERNAL_URL='unclosed\n"))

	result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--env-file", envFile)

	assert.Equal(t, exitFailure, result.code, result.stdout)
	require.NotEmpty(t, result.findings)
	assert.Equal(t, envFile+":1", result.stdout[len("error: "):len("error: ")+len(envFile)+2])
	assert.Contains(t, result.stdout, "missing closing quote")
}

func TestCheckSharedHostnameOnlyReportsURL(t *testing.T) {
	cases := []struct {
		name, role, host string
	}{
		{"portal", roleInfraManager, "Portal.Example.Test"},
		{"api host", roleAPIManager, testAPIHost + "."},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			f.vars[varURL] = tc.host

			result := runCheckWith(t, f.vars, "--role", tc.role)

			assert.Equal(t, exitFailure, result.code, result.stdout)
			assert.Equal(t, []string{varURL}, subjectsOf(result.findings, severityError))
			assert.NotContains(t, result.stdout, "SAN includes", "no certificate advice for a hostname in error")
			assert.Contains(t, result.stdout, tc.role+": dedicated route without a valid API_INTERNAL_URL: 1 error")
		})
	}
}

func TestCheckSummaryWithInvalidURL(t *testing.T) {
	f := newCheckFixture(t)
	f.vars[varURL] = "https://apiinternal.example.test"

	result := runCheckWith(t, f.vars, "--role", roleInfraManager)

	assert.Equal(t, exitFailure, result.code, result.stdout)
	assert.Contains(t, result.stdout, "infra_manager: dedicated route without a valid API_INTERNAL_URL: 1 error, 0 warnings")
	assert.NotContains(t, result.stdout, "route on :")
}

func TestCheckKeyAdviceFollowsEncoding(t *testing.T) {
	cases := []struct {
		name     string
		encoding string
		key      string
		advice   string
	}{
		{"base64 missing", "base64", "", "generate one with openssl rand -base64 32\n"},
		{"base64 short", "base64", "c2hvcnQ=", "generate one with openssl rand -base64 32\n"},
		{"hex missing", "hex", "", "generate one with openssl rand -hex 32\n"},
		{"hex short", "HEX", "abcd", "generate one with openssl rand -hex 32\n"},
		{"raw missing", "", "", "generate one with openssl rand -base64 32 and set API_INTERNAL_HMAC_ENCODING=base64\n"},
		{"raw short", "raw", "short", "generate one with openssl rand -base64 32 and set API_INTERNAL_HMAC_ENCODING=base64\n"},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newCheckFixture(t)
			f.vars[varHMACEncoding] = tc.encoding
			f.vars[varHMAC] = tc.key

			result := runCheckWith(t, f.vars, "--role", roleInfraManager)

			assert.Equal(t, exitFailure, result.code, result.stdout)
			assert.Equal(t, []string{varHMAC}, subjectsOf(result.findings, severityError))
			assert.Contains(t, result.stdout, tc.advice)
			assert.NotContains(t, result.stdout, "check value", "no check value for an invalid key")
		})
	}
}

func TestCheckPrintsKeyCheckValue(t *testing.T) {
	key := bytes.Repeat([]byte{0x5a}, 32)

	cases := []struct {
		encoding string
		value    string
	}{
		{"hex", hex.EncodeToString(key)},
		{"base64", "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo="},
		{"raw", string(key)},
	}

	for _, tc := range cases {
		t.Run(tc.encoding, func(t *testing.T) {
			f := newCheckFixture(t)
			f.vars[varHMACEncoding] = tc.encoding
			f.vars[varHMAC] = tc.value
			f.vars[varHMACKeyID] = "automation"

			result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")

			assert.Equal(t, exitOK, result.code, result.stdout)
			assert.Contains(t, result.stdout, "info: API_INTERNAL_HMAC: check value "+
				internalauth.KeyCheckValue(key)+` for key id "automation"`)
			assert.NotContains(t, result.stdout, tc.value, "the HMAC key must never be printed")
			assert.Contains(t, result.stdout, "0 errors, 0 warnings", "an informational line is not a warning")
		})
	}
}

func TestCheckServerCertificateWarningsAdviseNoSkip(t *testing.T) {
	f := newCheckFixture(t)
	delete(f.vars, varSSLCert)
	delete(f.vars, varSSLKey)

	result := runCheckWith(t, f.vars, "--role", roleInfraManager)

	assert.NotContains(t, result.stdout, "disable verification")
	assert.Contains(t, result.stdout, "default certificate on "+testInternalHost)
	assert.Contains(t, result.stdout, "internalauth sign and curl --cacert reject")
}

func TestCheckEnabledAcceptsAnyCase(t *testing.T) {
	for _, value := range []string{"true", "True", "TRUE", " true "} {
		t.Run(value, func(t *testing.T) {
			f := newCheckFixture(t)
			f.vars[varEnabled] = value

			result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")

			assert.Equal(t, exitOK, result.code, result.stdout)
			assert.Contains(t, result.stdout, "dedicated route on "+testInternalHost)
		})
	}

	for _, value := range []string{"false", "False", "FALSE", ""} {
		t.Run("off "+value, func(t *testing.T) {
			f := newCheckFixture(t)
			f.vars[varEnabled] = value

			result := runCheckWith(t, f.vars, "--role", roleInfraManager, "--strict")

			assert.Equal(t, exitOK, result.code, result.stdout)
			assert.Contains(t, result.stdout, "API_INTERNAL_ENABLED is not true")
		})
	}
}

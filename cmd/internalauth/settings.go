package main

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/internalauth/internalauth"
)

// Deployment roles: infra_manager runs portal and API on one site, and
// api_manager and portal_manager are the two sides of a split deployment.
const (
	roleInfraManager  = "infra_manager"
	roleAPIManager    = "api_manager"
	rolePortalManager = "portal_manager"
)

const defaultHMACKeyID = "apiinternal"

// settings are the variables after validation, normalized for output.
type settings struct {
	role    string
	enabled bool

	// routed is set when this role opens the dedicated route: enabled,
	// and infra_manager with an exact PORTAL_URL, or api_manager.
	routed bool

	internalHost string // API_INTERNAL_URL, lower case, no trailing dot; empty when invalid
	publicHost   string // the host on which /api/internal gets a 403
	sourceRanges []string

	certFile       string
	keyFile        string
	caFile         string
	standardCAFile string

	hmacKeyID    string
	hmacEncoding string
	pins         []string

	publicTLSOptions string
}

func validRole(role string) bool {
	return role == roleInfraManager || role == roleAPIManager || role == rolePortalManager
}

// validateVariables checks the variables' values without reading any
// file or the HMAC key, so render can run where neither is present.
func validateVariables(vars map[string]string, role string) (settings, []finding) {
	s := settings{role: role}

	var findings []finding

	enabled, err := parseBool(vars[varEnabled])
	if err != nil {
		return s, []finding{errorf(varEnabled, "%v", err)}
	}

	s.enabled = enabled
	if !enabled || role == rolePortalManager {
		return s, nil
	}

	findings = append(findings, s.setHosts(vars)...)
	findings = append(findings, s.setSourceRanges(vars[varRestrictIP])...)
	findings = append(findings, s.setTLSFiles(vars)...)
	findings = append(findings, s.setPins(vars[varClientPins])...)
	findings = append(findings, s.setKeySettings(vars)...)
	findings = append(findings, s.setPublicTLSOptions(vars[varPublicTLSOptions])...)

	s.routed = role == roleAPIManager || s.publicHost != ""

	return s, findings
}

// parseBool reads API_INTERNAL_ENABLED: true or false in any letter case,
// with surrounding white space ignored, and empty for false. Any other
// value, such as 1 or yes, is an error, so a typo never decides whether
// the route is opened.
func parseBool(value string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(value)) {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}

	return false, fmt.Errorf("invalid value %q; use true or false, in any letter case, or leave it "+
		"empty for false", value)
}

// setHosts validates API_INTERNAL_URL, PORTAL_URL and API_DOCKER_NAME and
// requires the dedicated hostname to differ from the other two: a
// hostname shared with another router gets two TLS options, and Traefik
// then falls back to its default option, without client authentication.
func (s *settings) setHosts(vars map[string]string) []finding {
	var findings []finding

	internal, problem := normalizeHostname(vars[varURL], false)

	switch {
	case strings.TrimSpace(vars[varURL]) == "":
		findings = append(findings, errorf(varURL, "missing; set the dedicated hostname "+
			"on which /api/internal is published, such as apiinternal.example.com"))
	case problem != "":
		findings = append(findings, errorf(varURL, "%q %s", vars[varURL], problem))
	case isIPAddress(internal):
		findings = append(findings, errorf(varURL, "%q is an IP address; TLS clients send no server "+
			"name (SNI) for an IP, so Traefik cannot select the dedicated TLS option: use a DNS name", vars[varURL]))
	default:
		s.internalHost = internal
	}

	portal, portalFindings := s.checkPortalURL(vars[varPortalURL])
	findings = append(findings, portalFindings...)

	apiHost, apiFindings := s.checkAPIHost(vars[varAPIHost])
	findings = append(findings, apiFindings...)

	switch s.role {
	case roleInfraManager:
		s.publicHost = portal
	case roleAPIManager:
		s.publicHost = apiHost
	}

	shared := false

	for _, other := range []struct{ name, host string }{{varPortalURL, portal}, {varAPIHost, apiHost}} {
		if s.internalHost != "" && s.internalHost == other.host {
			shared = true
			findings = append(findings, errorf(varURL, "%q is also %s; the dedicated hostname must be "+
				"distinct, because two TLS options on one hostname make Traefik use its default option, "+
				"without client authentication, for both: choose another name such as apiinternal.%s",
				vars[varURL], other.name, parentDomain(other.host)))
		}
	}

	// A shared hostname is the error to fix, so no other check, such as
	// the server certificate's SAN, should give advice about it.
	if shared {
		s.internalHost = ""
	}

	return findings
}

// checkPortalURL returns the normalized portal hostname. In infra_manager
// the dedicated route is opened only when PORTAL_URL is an exact
// hostname: a catch-all portal router would also take requests for the
// dedicated hostname.
func (s *settings) checkPortalURL(value string) (string, []finding) {
	host, problem := normalizeHostname(value, false)

	if s.role != roleInfraManager {
		if strings.TrimSpace(value) == "" || problem != "" {
			return "", nil
		}

		return host, nil
	}

	switch {
	case strings.TrimSpace(value) == "":
		return "", []finding{errorf(varPortalURL, "missing, so the portal is a catch-all and the dedicated "+
			"route is not created in infra_manager; set the portal's exact hostname, such as portal.example.com")}
	case problem != "":
		return "", []finding{errorf(varPortalURL, "%q %s; in infra_manager the portal needs an exact hostname "+
			"for the dedicated route to be created", value, problem)}
	}

	return host, nil
}

// checkAPIHost returns the normalized standard API hostname, which
// api_manager requires for the router that rejects /api/internal on it.
func (s *settings) checkAPIHost(value string) (string, []finding) {
	host, problem := normalizeHostname(value, true)

	if s.role != roleAPIManager {
		if strings.TrimSpace(value) == "" || problem != "" {
			return "", nil
		}

		return host, nil
	}

	switch {
	case strings.TrimSpace(value) == "":
		return "", []finding{errorf(varAPIHost, "missing; api_manager rejects /api/internal with 403 on the "+
			"standard API host, so set its hostname")}
	case problem != "":
		return "", []finding{errorf(varAPIHost, "%q %s", value, problem)}
	}

	return host, nil
}

// normalizeHostname lowers the case of value and removes one trailing
// dot. It returns a description of the problem when value is not a bare
// hostname. underscore allows "_", which docker container names use.
func normalizeHostname(value string, underscore bool) (string, string) {
	host := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(value)), ".")

	switch {
	case host == "":
		return "", "is empty"
	case strings.Contains(host, "://"):
		return "", "has a scheme; give the hostname alone, without https:// or a path"
	case strings.Contains(host, "/"):
		return "", "has a path; give the hostname alone"
	case strings.Contains(host, "*"):
		return "", "is a wildcard; give one exact hostname"
	}

	if addr, err := netip.ParseAddr(host); err == nil {
		return addr.String(), ""
	}

	if strings.Contains(host, ":") {
		return "", "has a port; give the hostname alone, Traefik matches Host without the port"
	}

	if len(host) > 253 {
		return "", "is longer than 253 characters"
	}

	allowed := "abcdefghijklmnopqrstuvwxyz0123456789-"
	if underscore {
		allowed += "_"
	}

	for _, label := range strings.Split(host, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' ||
			strings.Trim(label, allowed) != "" {
			return "", "is not a valid hostname; use letters, digits and hyphens in dot-separated labels"
		}
	}

	return host, ""
}

func isIPAddress(host string) bool {
	_, err := netip.ParseAddr(host)

	return err == nil
}

// parentDomain returns host without its first label, for suggestions.
func parentDomain(host string) string {
	if _, rest, ok := strings.Cut(host, "."); ok && rest != "" {
		return rest
	}

	return host
}

func (s *settings) setTLSFiles(vars map[string]string) []finding {
	s.certFile = strings.TrimSpace(vars[varSSLCert])
	s.keyFile = strings.TrimSpace(vars[varSSLKey])
	s.caFile = strings.TrimSpace(vars[varSSLCA])
	s.standardCAFile = strings.TrimSpace(vars[varStandardCA])

	var findings []finding

	switch {
	case s.certFile != "" && s.keyFile == "":
		findings = append(findings, errorf(varSSLKey, "missing while %s is set; set the path to the "+
			"certificate's private key", varSSLCert))
	case s.certFile == "" && s.keyFile != "":
		findings = append(findings, errorf(varSSLCert, "missing while %s is set; set the path to the "+
			"server certificate for %s", varSSLKey, varURL))
	case s.certFile == "" && s.caFile != "":
		// The dedicated mTLS that API_INTERNAL_SSL_CA enables requires a
		// valid server certificate for the hostname.
		findings = append(findings, errorf(varSSLCert, "missing while %s is set, %s", varSSLCA,
			s.defaultCertificateAdvice()))
	case s.certFile == "":
		findings = append(findings, warningf(varSSLCert, "not set, %s", s.defaultCertificateAdvice()))
	}

	if s.caFile == "" {
		findings = append(findings, warningf(varSSLCA, "not set, so no CA verifies the client certificate "+
			"and its pin alone authenticates it (allowUnverifiedChain); set the dedicated client CA "+
			"for mTLS with its own PKI"))
	}

	return findings
}

// defaultCertificateAdvice explains what callers see without a server
// certificate of the deployment's own, and what to set.
func (s *settings) defaultCertificateAdvice() string {
	host := s.internalHost
	if host == "" {
		host = varURL
	}

	return fmt.Sprintf("so Traefik presents its default certificate on %s (self-signed, unless another "+
		"certificate of its store covers that hostname), which internalauth sign and curl --cacert reject; "+
		"set %s and %s to a certificate whose SAN includes %s", host, varSSLCert, varSSLKey, host)
}

func (s *settings) setPins(value string) []finding {
	if strings.TrimSpace(value) == "" {
		return []finding{errorf(varClientPins, "missing; the internalauth middleware rejects its configuration "+
			"without a pinned client certificate, and Traefik then disables the route: add the SHA-256 "+
			"fingerprint of each caller's certificate (internalauth fingerprint client.crt), comma-separated")}
	}

	var findings []finding

	seen := make(map[string]bool)

	for i, raw := range strings.Split(value, ",") {
		pin := strings.TrimSpace(raw)

		if err := internalauth.ValidatePin(pin); err != nil {
			findings = append(findings, errorf(varClientPins, "entry %d: %v", i+1, err))

			continue
		}

		if seen[strings.ToLower(pin)] {
			findings = append(findings, warningf(varClientPins, "entry %d: %q is listed twice", i+1, pin))

			continue
		}

		seen[strings.ToLower(pin)] = true
		s.pins = append(s.pins, pin)
	}

	return findings
}

func (s *settings) setKeySettings(vars map[string]string) []finding {
	var findings []finding

	s.hmacKeyID = strings.TrimSpace(vars[varHMACKeyID])
	if s.hmacKeyID == "" {
		s.hmacKeyID = defaultHMACKeyID
	}

	if len(s.hmacKeyID) > 256 || strings.IndexFunc(s.hmacKeyID, func(r rune) bool { return r < 0x21 || r > 0x7e }) >= 0 {
		findings = append(findings, errorf(varHMACKeyID, "invalid key id %q; use at most 256 printable "+
			"ASCII characters without spaces", s.hmacKeyID))
	}

	s.hmacEncoding = strings.ToLower(strings.TrimSpace(vars[varHMACEncoding]))
	if s.hmacEncoding == "" {
		s.hmacEncoding = "raw"
	}

	switch s.hmacEncoding {
	case "raw", "base64", "hex":
	default:
		findings = append(findings, errorf(varHMACEncoding, "invalid value %q; use raw, base64 or hex "+
			"to say how %s is written", vars[varHMACEncoding], varHMAC))
	}

	return findings
}

// setPublicTLSOptions validates the TLS option of the public host's
// routers. The 403 router must name the same option as those routers,
// because with two options for one hostname Traefik uses its default
// option for both.
func (s *settings) setPublicTLSOptions(value string) []finding {
	s.publicTLSOptions = strings.TrimSpace(value)

	if s.publicTLSOptions == "" {
		if s.role == roleAPIManager {
			return []finding{warningf(varPublicTLSOptions, "not set, so the 403 router on %s uses Traefik's "+
				"default TLS option; if the standard API routers use another option, such as the standard "+
				"internal PKI's, Traefik falls back to the default option for both and drops their client "+
				"authentication: set it to that option, such as internal@file", varAPIHost)}
		}

		return nil
	}

	name, provider, _ := strings.Cut(s.publicTLSOptions, "@")
	if !isOptionName(name) || (strings.Contains(s.publicTLSOptions, "@") && !isOptionName(provider)) {
		return []finding{errorf(varPublicTLSOptions, "invalid TLS option %q; write NAME or NAME@PROVIDER, "+
			"such as internal@file", value)}
	}

	return nil
}

func isOptionName(name string) bool {
	return name != "" && strings.Trim(strings.ToLower(name), "abcdefghijklmnopqrstuvwxyz0123456789-_.") == ""
}

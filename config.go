package internalauth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"
)

// Upper bounds on the policy, so a typo cannot make the replay cache or
// the body buffer unbounded in practice.
const (
	maxMaxAge          = time.Hour
	maxClockSkew       = 5 * time.Minute
	maxMaxBodyBytes    = 1 << 30
	maxReplayCacheSize = 10000000
)

// reservedHeaders may not be used as upstream header names: the
// middleware reads them, or Go's HTTP stack manages them.
var reservedHeaders = []string{
	"Signature", "Signature-Input", "Content-Digest", "Accept-Signature",
	"Host", "Content-Length", "Transfer-Encoding", "Connection", "Authorization",
}

// buildMiddleware validates cfg and precomputes everything ServeHTTP
// needs. It returns warnings about settings that work but weaken the
// protection.
func buildMiddleware(cfg *Config, name string) (*Middleware, []string, error) {
	if cfg == nil {
		return nil, nil, errors.New("configuration missing")
	}

	m := &Middleware{
		name:            name,
		allowUnverified: cfg.AllowUnverifiedChain,
		requireNonce:    cfg.RequireNonce,
		now:             time.Now,
		log:             newRejectionLog(name),
	}

	var warnings []string

	steps := []func(*Config) ([]string, error){
		m.setKeysAndPins, m.setServerName, m.setTimes, m.setComponents, m.setLimits, m.setHeaders,
	}

	for _, step := range steps {
		stepWarnings, err := step(cfg)
		if err != nil {
			return nil, nil, err
		}

		warnings = append(warnings, stepWarnings...)
	}

	m.acceptSignature = acceptSignatureValue(m)
	m.replay = sharedReplayCache(name, cfg.ReplayCacheSize, m.maxAge)

	return m, warnings, nil
}

func (m *Middleware) setKeysAndPins(cfg *Config) ([]string, error) {
	if len(cfg.Keys) == 0 {
		return nil, errors.New("keys: no key configured; add keys[0].id and keys[0].secretFile " +
			"(or secretEnv) holding at least 32 random bytes")
	}

	var warnings []string

	m.keys = make(map[string]*hmacKey, len(cfg.Keys))

	pins, err := parsePins("pins", cfg.Pins)
	if err != nil {
		return nil, err
	}

	// m.pins accepts a certificate pinned anywhere; globalPins only those
	// pinned for every unrestricted key.
	m.globalPins, err = parsePins("pins", cfg.Pins)
	if err != nil {
		return nil, err
	}

	unrestricted := 0

	for i, keyConfig := range cfg.Keys {
		field := fmt.Sprintf("keys[%d]", i)

		key, err := loadKey(field, keyConfig)
		if err != nil {
			return nil, err
		}

		if _, ok := m.keys[key.id]; ok {
			return nil, fmt.Errorf("%s.id: key id %q is used twice; key ids must be unique", field, key.id)
		}

		m.keys[key.id] = key

		if key.warning != "" {
			warnings = append(warnings, key.warning)
		}

		if key.inline {
			warnings = append(warnings, fmt.Sprintf("%s: key %q is inline in the configuration, "+
				"where Traefik's API and docker inspect show it; use secretFile or secretEnv", field, key.id))
		}

		if key.pins == nil {
			unrestricted++

			continue
		}

		m.keyPins = true

		for sum := range key.pins.certificates {
			pins.certificates[sum] = struct{}{}
		}

		for sum := range key.pins.publicKeys {
			pins.publicKeys[sum] = struct{}{}
		}
	}

	if len(cfg.Pins) == 0 && unrestricted > 0 {
		return nil, errors.New("pins: no client certificate pinned; add the SHA-256 fingerprint of each " +
			"caller's certificate (internalauth fingerprint client.crt), or pins on every key")
	}

	m.pins = pins

	return warnings, nil
}

func (m *Middleware) setServerName(cfg *Config) ([]string, error) {
	name := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(cfg.ServerName)), ".")
	if name == "" {
		return []string{"serverName: not set, so SNI and Host are not checked; " +
			"set it to the dedicated hostname"}, nil
	}

	if !isHostname(name) {
		return nil, fmt.Errorf("serverName: %q is not a hostname; give the dedicated hostname alone, "+
			"such as apiinternal.example.com, without scheme, port or path", cfg.ServerName)
	}

	m.serverName = name

	return nil, nil
}

func (m *Middleware) setTimes(cfg *Config) ([]string, error) {
	var err error

	m.maxAge, err = parseDuration("maxAge", cfg.MaxAge, DefaultMaxAge, time.Second, maxMaxAge)
	if err != nil {
		return nil, err
	}

	m.clockSkew, err = parseDuration("clockSkew", cfg.ClockSkew, DefaultClockSkew, 0, maxClockSkew)
	if err != nil {
		return nil, err
	}

	var warnings []string
	if !m.requireNonce {
		warnings = append(warnings, "requireNonce: false; replays are still detected by signature value, "+
			"but a signer that reuses created times is easier to replay across restarts")
	}

	return warnings, nil
}

func parseDuration(field, value, fallback string, lowest, highest time.Duration) (time.Duration, error) {
	if strings.TrimSpace(value) == "" {
		value = fallback
	}

	d, err := time.ParseDuration(strings.TrimSpace(value))
	if err != nil {
		return 0, fmt.Errorf("%s: invalid duration %q: write it as a Go duration such as 5m or 30s", field, value)
	}

	if d < lowest || d > highest {
		return 0, fmt.Errorf("%s: %s is out of range; use a value from %s to %s", field, d, lowest, highest)
	}

	return d, nil
}

func (m *Middleware) setComponents(cfg *Config) ([]string, error) {
	components := cfg.Components
	if len(components) == 0 {
		components = DefaultComponents
	}

	m.components = make([]string, 0, len(components))

	for i, raw := range components {
		name := strings.TrimSpace(raw)

		if strings.ContainsAny(name, " \t") {
			return nil, fmt.Errorf("components[%d]: %q contains several names; components is a list, "+
				"give one component per item (in labels, separate them with commas)", i, raw)
		}

		if name != strings.ToLower(name) || checkComponentName(name) != nil {
			return nil, fmt.Errorf("components[%d]: %q is not supported; use lowercase field names "+
				"or one of @method, @authority, @path, @query, @scheme, @target-uri, @request-target", i, raw)
		}

		if containsString(m.components, name) {
			return nil, fmt.Errorf("components[%d]: %q is listed twice", i, name)
		}

		m.components = append(m.components, name)
	}

	m.policyList = `"` + strings.Join(m.components, `" "`) + `"`

	m.required = make(map[string]bool, len(m.components))
	for _, name := range m.components {
		m.required[name] = true
	}

	var warnings []string

	for _, name := range DefaultComponents {
		if !containsString(m.components, name) && !coveredByTargetURI(name, m.components) {
			warnings = append(warnings, fmt.Sprintf("components: %s is not required, "+
				"so a signature does not protect it", name))
		}
	}

	label := strings.TrimSpace(cfg.Label)
	if label != "" && !isKey(label) {
		return nil, fmt.Errorf("label: %q is not a valid signature label; use lowercase letters, digits, _, -, . or *", cfg.Label)
	}

	m.label = label

	if !isPrintableString(cfg.Tag) {
		return nil, fmt.Errorf("tag: %q must be printable ASCII", cfg.Tag)
	}

	m.tag = cfg.Tag

	return warnings, nil
}

// coveredByTargetURI reports whether @target-uri, which includes the
// authority, path and query, is required in place of name.
func coveredByTargetURI(name string, components []string) bool {
	switch name {
	case "@authority", "@path", "@query":
		return containsString(components, "@target-uri")
	}

	return false
}

func (m *Middleware) setLimits(cfg *Config) ([]string, error) {
	if cfg.MaxBodyBytes <= 0 || cfg.MaxBodyBytes > maxMaxBodyBytes {
		return nil, fmt.Errorf("maxBodyBytes: %d is out of range; use 1 to %d (default %d)",
			cfg.MaxBodyBytes, maxMaxBodyBytes, DefaultMaxBodyBytes)
	}

	if cfg.ReplayCacheSize <= 0 || cfg.ReplayCacheSize > maxReplayCacheSize {
		return nil, fmt.Errorf("replayCacheSize: %d is out of range; use 1 to %d (default %d)",
			cfg.ReplayCacheSize, maxReplayCacheSize, DefaultReplayCacheSize)
	}

	m.maxBodyBytes = cfg.MaxBodyBytes

	return nil, nil
}

func (m *Middleware) setHeaders(cfg *Config) ([]string, error) {
	var err error

	m.keyIDHeader, err = headerName("keyIdHeader", cfg.KeyIDHeader, DefaultKeyIDHeader)
	if err != nil {
		return nil, err
	}

	m.certificateHeader, err = headerName("certificateHeader", cfg.CertificateHeader, DefaultCertificateHeader)
	if err != nil {
		return nil, err
	}

	if m.keyIDHeader == m.certificateHeader {
		return nil, fmt.Errorf("certificateHeader: %q is also keyIdHeader; give them different names", cfg.CertificateHeader)
	}

	return nil, nil
}

func headerName(field, value, fallback string) (string, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		value = fallback
	}

	if spanOf(value, tokenChars) != len(value) || strings.ContainsAny(value, ":/") {
		return "", fmt.Errorf("%s: %q is not a valid header name", field, value)
	}

	canonical := http.CanonicalHeaderKey(value)

	for _, reserved := range reservedHeaders {
		if canonical == reserved {
			return "", fmt.Errorf("%s: %q is reserved; choose another name such as %s", field, value, fallback)
		}
	}

	return canonical, nil
}

// isHostname reports whether name is a DNS name or an IP address,
// without port.
func isHostname(name string) bool {
	if net.ParseIP(name) != nil {
		return true
	}

	if len(name) > 253 {
		return false
	}

	for _, label := range strings.Split(name, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}

		if spanOf(label, lowerAlpha+digits+"-_") != len(label) {
			return false
		}
	}

	return true
}

// acceptSignatureValue builds the Accept-Signature field sent with 401
// responses: the label, the required components and parameters.
func acceptSignatureValue(m *Middleware) string {
	label := m.label
	if label == "" {
		label = DefaultLabel
	}

	list := make([]sfInnerItem, len(m.components))
	for i, name := range m.components {
		list[i] = sfInnerItem{value: sfItem{kind: sfString, str: name}}
	}

	flag := sfItem{kind: sfBoolean, boolean: true}
	params := []sfParam{{key: "created", value: flag}}

	if m.requireNonce {
		params = append(params, sfParam{key: "nonce", value: flag})
	}

	params = append(params, sfParam{key: "alg", value: sfItem{kind: sfString, str: AlgorithmHMACSHA256}})

	if m.tag != "" {
		params = append(params, sfParam{key: "tag", value: sfItem{kind: sfString, str: m.tag}})
	}

	return label + "=" + serializeInnerList(list, params)
}

// summary describes the loaded configuration for the start-up log line,
// with a check value in place of each key.
func (m *Middleware) summary() string {
	ids := make([]string, 0, len(m.keys))
	for id := range m.keys {
		ids = append(ids, id)
	}

	sort.Strings(ids)

	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = fmt.Sprintf("%q (check %s)", id, KeyCheckValue(m.keys[id].secret))
	}

	serverName := m.serverName
	if serverName == "" {
		serverName = "any"
	}

	return fmt.Sprintf("loaded: keys %s; %d certificate pins; unverified chains allowed: %t; "+
		"server name %s; components %s; max age %s; clock skew %s; nonce required: %t; body limit %d bytes",
		strings.Join(keys, ", "), m.pins.len(), m.allowUnverified, serverName,
		strings.Join(m.components, " "), m.maxAge, m.clockSkew, m.requireNonce, m.maxBodyBytes)
}

package internalauth

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// AlgorithmHMACSHA256 is the RFC 9421 algorithm name this package signs
// and verifies with.
const AlgorithmHMACSHA256 = "hmac-sha256"

// DefaultLabel is the signature label Sign uses when none is given.
const DefaultLabel = "sig1"

// MinKeyBytes is the shortest HMAC key accepted, after decoding.
const MinKeyBytes = 32

const keyCheckMessage = "internalauth key check value"

var (
	errComponentUnsupported = errors.New("component not supported")
	errComponentAbsent      = errors.New("component absent from the request")
)

// derivedComponents are the derived components this package can compute
// for a request.
var derivedComponents = map[string]bool{
	"@method":         true,
	"@target-uri":     true,
	"@authority":      true,
	"@scheme":         true,
	"@request-target": true,
	"@path":           true,
	"@query":          true,
}

// SignOptions adjusts what Sign produces. The zero value signs the
// default components with a fresh nonce and the current time.
type SignOptions struct {
	// Label is the signature's dictionary key. Default: DefaultLabel.
	Label string
	// Components are the covered components. Default: DefaultComponents.
	Components []string
	// Created is the signature's creation time. Default: time.Now().
	Created time.Time
	// Expires, when set, adds an expires parameter.
	Expires time.Time
	// Nonce is the nonce parameter. Default: 16 random bytes in base64url.
	Nonce string
	// Tag, when set, adds a tag parameter.
	Tag string
}

// Sign adds RFC 9421 Signature-Input and Signature fields to req, signed
// with hmac-sha256 under keyID. When content-digest is covered it first
// sets Content-Digest from the body, which it reads and restores. The
// authority comes from req.Host, or req.URL.Host when Host is empty, and
// the scheme from req.URL.Scheme. opts may be nil.
func Sign(req *http.Request, keyID string, key []byte, opts *SignOptions) error {
	if opts == nil {
		opts = &SignOptions{}
	}

	if err := checkSignArguments(keyID, key, opts); err != nil {
		return err
	}

	components := opts.Components
	if len(components) == 0 {
		components = DefaultComponents
	}

	if containsString(components, "content-digest") {
		if err := setContentDigest(req); err != nil {
			return err
		}
	}

	params, err := signParams(keyID, opts)
	if err != nil {
		return err
	}

	list := make([]sfInnerItem, len(components))
	for i, name := range components {
		list[i] = sfInnerItem{value: sfItem{kind: sfString, str: name}}
	}

	signatureParams := serializeInnerList(list, params)

	base, err := signatureBase(req, req.URL.Scheme, components, signatureParams)
	if err != nil {
		return fmt.Errorf("sign: %w", err)
	}

	label := opts.Label
	if label == "" {
		label = DefaultLabel
	}

	mac := computeMAC(key, base)

	req.Header.Set("Signature-Input", label+"="+signatureParams)
	req.Header.Set("Signature", label+"=:"+base64.StdEncoding.EncodeToString(mac)+":")

	return nil
}

func checkSignArguments(keyID string, key []byte, opts *SignOptions) error {
	if keyID == "" || !isPrintableString(keyID) {
		return fmt.Errorf("sign: invalid key id %q: use printable ASCII", keyID)
	}

	if len(key) < MinKeyBytes {
		return fmt.Errorf("sign: key is %d bytes, at least %d are required", len(key), MinKeyBytes)
	}

	if opts.Label != "" && !isKey(opts.Label) {
		return fmt.Errorf("sign: invalid label %q: use lowercase letters, digits, _, -, . or *", opts.Label)
	}

	if !isPrintableString(opts.Nonce) || !isPrintableString(opts.Tag) {
		return errors.New("sign: nonce and tag must be printable ASCII")
	}

	for _, name := range opts.Components {
		if err := checkComponentName(name); err != nil {
			return fmt.Errorf("sign: component %q: %w", name, err)
		}
	}

	return nil
}

func signParams(keyID string, opts *SignOptions) ([]sfParam, error) {
	created := opts.Created
	if created.IsZero() {
		created = time.Now()
	}

	nonce := opts.Nonce
	if nonce == "" {
		random := make([]byte, 16)
		if _, err := rand.Read(random); err != nil {
			return nil, fmt.Errorf("sign: generate nonce: %w", err)
		}

		nonce = base64.RawURLEncoding.EncodeToString(random)
	}

	params := []sfParam{{key: "created", value: sfItem{kind: sfInteger, integer: created.Unix()}}}

	if !opts.Expires.IsZero() {
		params = append(params, sfParam{key: "expires", value: sfItem{kind: sfInteger, integer: opts.Expires.Unix()}})
	}

	params = append(params,
		sfParam{key: "nonce", value: sfItem{kind: sfString, str: nonce}},
		sfParam{key: "keyid", value: sfItem{kind: sfString, str: keyID}},
		sfParam{key: "alg", value: sfItem{kind: sfString, str: AlgorithmHMACSHA256}},
	)

	if opts.Tag != "" {
		params = append(params, sfParam{key: "tag", value: sfItem{kind: sfString, str: opts.Tag}})
	}

	return params, nil
}

// setContentDigest reads the body, restores it and sets Content-Digest to
// its sha-256.
func setContentDigest(req *http.Request) error {
	var body []byte

	if req.Body != nil {
		var err error

		body, err = io.ReadAll(req.Body)
		if err != nil {
			return fmt.Errorf("sign: read body: %w", err)
		}

		_ = req.Body.Close()
		req.Body = io.NopCloser(bytes.NewReader(body))
		req.ContentLength = int64(len(body))

		snapshot := body
		req.GetBody = func() (io.ReadCloser, error) {
			return io.NopCloser(bytes.NewReader(snapshot)), nil
		}
	}

	req.Header.Set("Content-Digest", contentDigestSHA256(body))

	return nil
}

// signatureBase builds the RFC 9421 signature base: one line per covered
// component, then the @signature-params line.
func signatureBase(req *http.Request, scheme string, components []string, signatureParams string) ([]byte, error) {
	var b bytes.Buffer

	for _, name := range components {
		value, err := componentValue(req, scheme, name)
		if err != nil {
			return nil, fmt.Errorf("component %q: %w", name, err)
		}

		b.WriteByte('"')
		b.WriteString(name)
		b.WriteString(`": `)
		b.WriteString(value)
		b.WriteByte('\n')
	}

	b.WriteString(`"@signature-params": `)
	b.WriteString(signatureParams)

	return b.Bytes(), nil
}

// defaultComponentList is DefaultComponents as a Signature-Input inner
// list writes them.
const defaultComponentList = `"@method" "@authority" "@path" "@query" "content-digest"`

// defaultBase builds the signature base in one expression when the
// signature covers exactly DefaultComponents, in their order, and the
// request has one Content-Digest line. Otherwise it returns nil, and
// signatureBase builds the base. Under yaegi each loop iteration of
// signatureBase costs several interpreted statements per component.
func defaultBase(req *http.Request, sig *signature) []byte {
	digest := req.Header["Content-Digest"]
	if sig.componentList != defaultComponentList || len(digest) != 1 {
		return nil
	}

	return []byte(`"@method": ` + req.Method +
		"\n\"@authority\": " + requestAuthority(req, "https") +
		"\n\"@path\": " + requestPath(req) +
		"\n\"@query\": ?" + req.URL.RawQuery +
		"\n\"content-digest\": " + strings.TrimSpace(digest[0]) +
		"\n\"@signature-params\": " + sig.serialized)
}

// checkComponentName accepts the derived components of derivedComponents
// and lowercase field names, without parameters.
func checkComponentName(name string) error {
	if strings.HasPrefix(name, "@") {
		if !derivedComponents[name] {
			return errComponentUnsupported
		}

		return nil
	}

	if name == "" || spanOf(name, lowerAlpha+digits+"!#$%&'*+-.^_`|~") != len(name) {
		return errComponentUnsupported
	}

	return nil
}

// componentValue returns the value of one covered component of req.
func componentValue(req *http.Request, scheme, name string) (string, error) {
	switch name {
	case "@method":
		return req.Method, nil
	case "@authority":
		return requestAuthority(req, scheme), nil
	case "@scheme":
		return scheme, nil
	case "@path":
		return requestPath(req), nil
	case "@query":
		return "?" + req.URL.RawQuery, nil
	case "@request-target":
		return requestTarget(req), nil
	case "@target-uri":
		return scheme + "://" + requestAuthority(req, scheme) + requestTarget(req), nil
	case "host":
		return requestAuthority(req, scheme), nil
	}

	if err := checkComponentName(name); err != nil {
		return "", err
	}

	values := req.Header.Values(name)
	if len(values) == 0 {
		return "", errComponentAbsent
	}

	for i, value := range values {
		values[i] = strings.TrimSpace(value)
	}

	return strings.Join(values, ", "), nil
}

// requestAuthority returns the lowercase host of req with the scheme's
// default port removed.
func requestAuthority(req *http.Request, scheme string) string {
	host := req.Host
	if host == "" {
		host = req.URL.Host
	}

	host = strings.ToLower(host)

	switch {
	case scheme == "https" && strings.HasSuffix(host, ":443"):
		host = strings.TrimSuffix(host, ":443")
	case scheme == "http" && strings.HasSuffix(host, ":80"):
		host = strings.TrimSuffix(host, ":80")
	}

	return host
}

// requestPath returns the path as the client encoded it, or "/" when
// empty.
func requestPath(req *http.Request) string {
	path := req.URL.EscapedPath()
	if path == "" {
		return "/"
	}

	return path
}

func requestTarget(req *http.Request) string {
	if req.URL.RawQuery == "" && !req.URL.ForceQuery {
		return requestPath(req)
	}

	return requestPath(req) + "?" + req.URL.RawQuery
}

func computeMAC(key, base []byte) []byte {
	mac := hmac.New(sha256.New, key)
	mac.Write(base)

	return mac.Sum(nil)
}

// DecodeKey decodes an HMAC key written in encoding: "raw" (or empty)
// uses text as is, "base64" accepts standard or URL-safe base64 with or
// without padding, "hex" accepts upper or lower case. Surrounding
// whitespace is removed for base64 and hex.
func DecodeKey(text []byte, encoding string) ([]byte, error) {
	trimmed := strings.TrimSpace(string(text))

	switch strings.ToLower(encoding) {
	case "", "raw":
		return text, nil
	case "hex":
		key, err := hex.DecodeString(trimmed)
		if err != nil {
			return nil, errors.New("not valid hex")
		}

		return key, nil
	case "base64":
		for _, enc := range []*base64.Encoding{
			base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding,
		} {
			if key, err := enc.DecodeString(trimmed); err == nil {
				return key, nil
			}
		}

		return nil, errors.New("not valid base64")
	default:
		return nil, fmt.Errorf("unknown encoding %q: use raw, base64 or hex", encoding)
	}
}

// KeyCheckValue returns a short value that identifies key without
// revealing it: the first 4 bytes, in hex, of an HMAC-SHA256 under key of
// a fixed message. Signers and the middleware log it so operators can
// compare keys.
func KeyCheckValue(key []byte) string {
	return hex.EncodeToString(computeMAC(key, []byte(keyCheckMessage))[:4])
}

func containsString(list []string, s string) bool {
	for _, item := range list {
		if item == s {
			return true
		}
	}

	return false
}

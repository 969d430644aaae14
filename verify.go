package internalauth

import (
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"net/http"
	"strings"
	"time"
)

// Bounds on the fields parsed, so a hostile request costs little.
const (
	maxSignatureFieldBytes = 4096
	// maxSignatureMembers bounds the members of Signature-Input and
	// Signature, counted by their separating commas.
	maxSignatureMembers = 16
	maxNonceBytes       = 256
)

// signature is the one signature of a request selected for verification.
type signature struct {
	components []string
	params     []sfParam
	serialized string // the @signature-params value
	mac        []byte

	// componentList is the covered components as the field wrote them,
	// such as `"@method" "@path"`, when a fast path parsed the field.
	componentList string

	keyID   string
	alg     string
	nonce   string
	tag     string
	created int64
	expires int64

	hasKeyID, hasAlg, hasNonce, hasTag, hasCreated, hasExpires bool

	// coversDigest is set by checkComponents.
	coversDigest bool
}

// verified describes a request whose signature checked out.
type verified struct {
	key      *hmacKey
	replayID string
	// created and expires are the signature's parameters, in Unix
	// seconds; expires is set only when hasExpires is.
	created    int64
	expires    int64
	hasExpires bool
}

// checkSignature applies the policy to sig and verifies its MAC. It
// returns the verified signature, or the reason for rejecting the request.
func (m *Middleware) checkSignature(req *http.Request, sig *signature, now time.Time) (*verified, string) {
	if reason := m.checkParams(sig, now); reason != "" {
		return nil, reason
	}

	key := m.keys[sig.keyID]

	if sig.coversDigest && len(req.Header["Content-Digest"]) == 0 {
		return nil, reasonDigestMissing
	}

	base := defaultBase(req, sig)
	if base == nil {
		var err error
		if base, err = signatureBase(req, "https", sig.components, sig.serialized); err != nil {
			return nil, componentReason(err)
		}
	}

	mac := hmac.New(sha256.New, key.secret)
	mac.Write(base)

	if !hmac.Equal(mac.Sum(nil), sig.mac) {
		return nil, reasonSignatureMismatch
	}

	replayID := sig.keyID + "\x00n" + sig.nonce
	if !sig.hasNonce {
		replayID = sig.keyID + "\x00s" + string(sig.mac)
	}

	return &verified{
		key: key, replayID: replayID,
		created: sig.created, expires: sig.expires, hasExpires: sig.hasExpires,
	}, ""
}

// selectSignature parses Signature-Input and Signature and picks the
// signature to verify: the configured label, or the only one.
func (m *Middleware) selectSignature(req *http.Request) (*signature, string) {
	// A field sent on one line, the usual case, needs no join and no
	// call, which matters under yaegi.
	inputLines, signatureLines := req.Header["Signature-Input"], req.Header["Signature"]
	inputField, signatureField := "", ""

	if len(inputLines) == 1 && len(signatureLines) == 1 {
		inputField, signatureField = inputLines[0], signatureLines[0]
	} else {
		inputField, signatureField = joinFieldLines(inputLines), joinFieldLines(signatureLines)
	}

	if inputField == "" || signatureField == "" {
		return nil, reasonSignatureMissing
	}

	if len(inputField) > maxSignatureFieldBytes || len(signatureField) > maxSignatureFieldBytes {
		return nil, reasonSignatureMalformed
	}

	if strings.Count(inputField, ",") >= maxSignatureMembers || strings.Count(signatureField, ",") >= maxSignatureMembers {
		return nil, reasonSignatureMalformed
	}

	if sig, ok := fastSignature(inputField, signatureField, m.label); ok {
		return sig, ""
	}

	inputs, err := parseDictionary(inputField)
	if err != nil {
		return nil, reasonSignatureMalformed
	}

	signatures, err := parseDictionary(signatureField)
	if err != nil {
		return nil, reasonSignatureMalformed
	}

	label := m.label
	if label == "" {
		if len(inputs) != 1 {
			return nil, reasonLabelAmbiguous
		}

		label = inputs[0].key
	}

	input, ok := findMember(inputs, label)
	if !ok {
		return nil, reasonSignatureMissing
	}

	value, ok := findMember(signatures, label)
	if !ok {
		return nil, reasonSignatureMissing
	}

	if !input.isList || value.isList || value.item.kind != sfBytes ||
		len(value.item.bytes) != sha256.Size || len(value.params) != 0 {
		return nil, reasonSignatureMalformed
	}

	sig, reason := parseSignatureInput(input)
	if reason != "" {
		return nil, reason
	}

	sig.mac = value.item.bytes

	return sig, ""
}

func findMember(members []sfMember, key string) (sfMember, bool) {
	for _, member := range members {
		if member.key == key {
			return member, true
		}
	}

	return sfMember{}, false
}

// parseSignatureInput reads the covered components and the parameters of
// one Signature-Input member.
func parseSignatureInput(input sfMember) (*signature, string) {
	sig := &signature{params: input.params}

	for _, item := range input.list {
		if item.value.kind != sfString {
			return nil, reasonSignatureMalformed
		}

		name := item.value.str

		if len(item.params) != 0 || checkComponentName(name) != nil {
			return nil, reasonComponentUnsupported
		}

		sig.components = append(sig.components, name)
	}

	for _, param := range input.params {
		if !sig.setParam(param) {
			return nil, reasonSignatureMalformed
		}
	}

	sig.serialized = serializeInnerList(input.list, input.params)

	return sig, ""
}

// setParam stores one signature parameter, reporting false for an
// unknown parameter or a value of the wrong type.
func (s *signature) setParam(param sfParam) bool {
	value := param.value

	switch param.key {
	case "created":
		s.created, s.hasCreated = value.integer, true

		return value.kind == sfInteger && value.integer >= 0
	case "expires":
		s.expires, s.hasExpires = value.integer, true

		return value.kind == sfInteger && value.integer >= 0
	case "keyid":
		s.keyID, s.hasKeyID = value.str, true

		return value.kind == sfString
	case "alg":
		s.alg, s.hasAlg = value.str, true

		return value.kind == sfString
	case "nonce":
		s.nonce, s.hasNonce = value.str, true

		return value.kind == sfString && value.str != "" && len(value.str) <= maxNonceBytes
	case "tag":
		s.tag, s.hasTag = value.str, true

		return value.kind == sfString
	default:
		return false
	}
}

// checkParams applies the policy to the signature parameters and the
// covered components.
func (m *Middleware) checkParams(sig *signature, now time.Time) string {
	if !sig.hasKeyID {
		return reasonKeyIDMissing
	}

	if _, ok := m.keys[sig.keyID]; !ok {
		return reasonKeyIDUnknown
	}

	if sig.hasAlg && sig.alg != AlgorithmHMACSHA256 {
		return reasonAlgorithm
	}

	if reason := m.checkTimes(sig, now); reason != "" {
		return reason
	}

	if m.requireNonce && !sig.hasNonce {
		return reasonNonceMissing
	}

	if m.tag != "" && (!sig.hasTag || sig.tag != m.tag) {
		return reasonTagMismatch
	}

	return m.checkComponents(sig)
}

// checkComponents rejects a repeated covered component and requires every
// component of the policy. It uses a set, not nested loops, because each
// interpreted iteration is costly under yaegi.
func (m *Middleware) checkComponents(sig *signature) string {
	// The list the policy requires, in its order, has no repeats and
	// covers every required component.
	if sig.componentList != "" && sig.componentList == m.policyList {
		sig.coversDigest = m.required["content-digest"]

		return ""
	}

	seen := make(map[string]bool, len(sig.components))
	required := 0

	for _, name := range sig.components {
		if seen[name] {
			return reasonSignatureMalformed
		}

		seen[name] = true

		if m.required[name] {
			required++
		}
	}

	if required != len(m.required) {
		return reasonComponentsMissing
	}

	sig.coversDigest = seen["content-digest"]

	return ""
}

func (m *Middleware) checkTimes(sig *signature, now time.Time) string {
	if !sig.hasCreated {
		return reasonCreatedMissing
	}

	if sig.hasExpires && sig.expires <= sig.created {
		return reasonSignatureMalformed
	}

	// Integer arithmetic in place of time.Time methods: each of those is
	// a call out of the interpreter under yaegi. created is an integer
	// number of seconds, so created*1e9 > nowNanos+skew exactly when
	// created > (nowNanos+skew)/1e9 rounded down. After that check,
	// created*1e9 cannot overflow.
	nowNanos := now.UnixNano()

	if sig.created > (nowNanos+int64(m.clockSkew))/int64(time.Second) {
		return reasonNotYetValid
	}

	if nowNanos-sig.created*int64(time.Second) > int64(m.maxAge) {
		return reasonExpired
	}

	if sig.hasExpires && nowNanos/int64(time.Second) >= sig.expires {
		return reasonExpired
	}

	return ""
}

func componentReason(err error) string {
	switch {
	case errors.Is(err, errComponentAbsent):
		return reasonComponentAbsent
	case errors.Is(err, errComponentUnsupported):
		return reasonComponentUnsupported
	default:
		return reasonSignatureMalformed
	}
}

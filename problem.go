package internalauth

import (
	"encoding/json"
	"net/http"
)

// Reason codes name why a request was rejected. They appear in the
// problem details body, in the logs and in the README, and never change
// meaning.
const (
	reasonTLSRequired          = "tls_required"
	reasonCertificateMissing   = "client_certificate_missing"
	reasonCertificateUnverfied = "client_certificate_unverified"
	reasonNotPinned            = "certificate_not_pinned"
	reasonServerName           = "server_name_mismatch"
	reasonHost                 = "host_mismatch"
	reasonKeyNotAllowed        = "key_not_allowed"
	reasonSignatureMissing     = "signature_missing"
	reasonSignatureMalformed   = "signature_malformed"
	reasonLabelAmbiguous       = "signature_label_ambiguous"
	reasonKeyIDMissing         = "keyid_missing"
	reasonKeyIDUnknown         = "keyid_unknown"
	reasonAlgorithm            = "algorithm_unsupported"
	reasonCreatedMissing       = "created_missing"
	reasonExpired              = "signature_expired"
	reasonNotYetValid          = "signature_not_yet_valid"
	reasonNonceMissing         = "nonce_missing"
	reasonNonceReplayed        = "nonce_replayed"
	reasonComponentsMissing    = "components_missing"
	reasonComponentUnsupported = "component_unsupported"
	reasonComponentAbsent      = "component_absent"
	reasonTagMismatch          = "tag_mismatch"
	reasonDigestMissing        = "content_digest_missing"
	reasonDigestMalformed      = "content_digest_malformed"
	reasonDigestMismatch       = "content_digest_mismatch"
	reasonSignatureMismatch    = "signature_mismatch"
	reasonBodyTooLarge         = "body_too_large"
	reasonBodyUnreadable       = "body_unreadable"
	reasonReplayCacheFull      = "replay_cache_full"
	reasonInternalError        = "internal_error"
)

type reasonInfo struct {
	status int
	detail string
}

var reasons = map[string]reasonInfo{
	reasonTLSRequired:          {http.StatusForbidden, "The request did not arrive over TLS."},
	reasonCertificateMissing:   {http.StatusForbidden, "No client certificate was presented."},
	reasonCertificateUnverfied: {http.StatusForbidden, "The client certificate was not verified by the TLS option of this route."},
	reasonNotPinned:            {http.StatusForbidden, "The client certificate is not pinned."},
	reasonServerName:           {http.StatusForbidden, "The TLS server name does not match the configured server name."},
	reasonHost:                 {http.StatusForbidden, "The Host header does not match the configured server name."},
	reasonKeyNotAllowed:        {http.StatusForbidden, "The signing key is not allowed for this client certificate."},
	reasonSignatureMissing:     {http.StatusUnauthorized, "The request has no Signature-Input and Signature fields, or not the expected label."},
	reasonSignatureMalformed:   {http.StatusUnauthorized, "The Signature-Input or Signature field is not valid."},
	reasonLabelAmbiguous:       {http.StatusUnauthorized, "The request carries several signatures; send exactly one."},
	reasonKeyIDMissing:         {http.StatusUnauthorized, "The signature has no keyid parameter."},
	reasonKeyIDUnknown:         {http.StatusUnauthorized, "The signature's keyid is not a configured key."},
	reasonAlgorithm:            {http.StatusUnauthorized, "The signature's alg parameter is not hmac-sha256."},
	reasonCreatedMissing:       {http.StatusUnauthorized, "The signature has no created parameter."},
	reasonExpired:              {http.StatusUnauthorized, "The signature is older than the maximum age or past its expires time."},
	reasonNotYetValid:          {http.StatusUnauthorized, "The signature's created time is in the future; check the signer's clock."},
	reasonNonceMissing:         {http.StatusUnauthorized, "The signature has no nonce parameter."},
	reasonNonceReplayed:        {http.StatusUnauthorized, "This signature was already used."},
	reasonComponentsMissing:    {http.StatusUnauthorized, "The signature does not cover every required component; see Accept-Signature."},
	reasonComponentUnsupported: {http.StatusUnauthorized, "The signature covers a component or component parameter that is not supported."},
	reasonComponentAbsent:      {http.StatusUnauthorized, "The signature covers a field that the request does not carry."},
	reasonTagMismatch:          {http.StatusUnauthorized, "The signature's tag parameter is not the expected one."},
	reasonDigestMissing:        {http.StatusUnauthorized, "The request has no Content-Digest field."},
	reasonDigestMalformed:      {http.StatusUnauthorized, "The Content-Digest field is not valid or has no sha-256 or sha-512 member."},
	reasonDigestMismatch:       {http.StatusUnauthorized, "The Content-Digest field does not match the body."},
	reasonSignatureMismatch:    {http.StatusUnauthorized, "The signature does not match the request."},
	reasonBodyTooLarge:         {http.StatusRequestEntityTooLarge, "The body is larger than the configured limit."},
	reasonBodyUnreadable:       {http.StatusBadRequest, "The body could not be read."},
	reasonReplayCacheFull:      {http.StatusServiceUnavailable, "Too many recent signatures to check for replay; retry later."},
	reasonInternalError:        {http.StatusInternalServerError, "The request could not be checked."},
}

// problemBodies are the RFC 9457 problem details documents, one per
// reason, built once. They hold no request data.
var problemBodies = buildProblemBodies()

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Reason string `json:"reason"`
}

func buildProblemBodies() map[string][]byte {
	bodies := make(map[string][]byte, len(reasons))

	for code, info := range reasons {
		body, err := json.Marshal(problem{
			Type:   "urn:internalauth:" + code,
			Title:  http.StatusText(info.status),
			Status: info.status,
			Detail: info.detail,
			Reason: code,
		})
		if err != nil {
			body = []byte(`{"status":500}`)
		}

		bodies[code] = append(body, '\n')
	}

	return bodies
}

// writeProblem sends the rejection for reason. acceptSignature is sent
// with 401 responses so the caller learns what to sign.
func writeProblem(rw http.ResponseWriter, reason, acceptSignature string) int {
	info, ok := reasons[reason]
	if !ok {
		reason = reasonInternalError
		info = reasons[reason]
	}

	header := rw.Header()
	header.Set("Content-Type", "application/problem+json")
	header.Set("Cache-Control", "no-store")
	header.Set("X-Content-Type-Options", "nosniff")

	if info.status == http.StatusUnauthorized {
		header.Set("Accept-Signature", acceptSignature)
	}

	if info.status == http.StatusServiceUnavailable {
		header.Set("Retry-After", "1")
	}

	rw.WriteHeader(info.status)
	_, _ = rw.Write(problemBodies[reason])

	return info.status
}

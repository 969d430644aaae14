package harness

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
	"testing"
)

func TestUpstreamRecordsAndRelays(t *testing.T) {
	api := StartUpstream(t, "api", nil)
	portal := StartUpstream(t, "portal", api)

	const body = `{"user":42}`
	resp, err := http.Post(portal.URL+"/api/users?x=1", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status = %d, want 200", resp.StatusCode)
	}

	sum := sha256.Sum256([]byte(body))
	for _, u := range []*Upstream{portal, api} {
		got := u.Requests()
		if len(got) != 1 {
			t.Fatalf("%s received %d requests, want 1", u.Name, len(got))
		}
		if got[0].RequestURI != "/api/users?x=1" {
			t.Errorf("%s request-target = %q", u.Name, got[0].RequestURI)
		}
		if got[0].BodySHA256 != hex.EncodeToString(sum[:]) || got[0].BodyLength != int64(len(body)) {
			t.Errorf("%s body = %d bytes %s, want the posted body", u.Name, got[0].BodyLength, got[0].BodySHA256)
		}
	}

	resp, err = http.Get(portal.URL + "/home")
	if err != nil {
		t.Fatal(err)
	}
	_ = resp.Body.Close()
	if n := len(api.Requests()); n != 1 {
		t.Errorf("API received %d requests after a portal page, want 1", n)
	}

	api.Reset()
	if n := len(api.Requests()); n != 0 {
		t.Errorf("after Reset the API has %d requests, want 0", n)
	}
}

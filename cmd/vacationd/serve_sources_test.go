package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/vacationd/vacationd/delivery"
	"github.com/vacationd/vacationd/sources"
	"github.com/vacationd/vacationd/store"
	"github.com/vacationd/vacationd/transport"
)

// TestServeSources: metadata set through /metadata, mailboxes from
// --mailbox-dir and lists from --list-dir reach the scripts of serve, and a
// notification is queued with the reply.
func TestServeSources(t *testing.T) {
	db := openTestDB(t)
	srv := httptest.NewServer(httpHandler(prometheus.NewRegistry(), db, time.Hour))
	defer srv.Close()
	put := func(q, body string) int {
		req, _ := http.NewRequest(http.MethodPut, srv.URL+"/metadata?"+q, strings.NewReader(body))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := put("user=bob@example.com&mailbox=INBOX&entry=/private/vacation", "on"); code != 200 {
		t.Fatalf("PUT /metadata: %d", code)
	}
	if code := put("user=bob@example.com&entry=frop", "x"); code != 400 {
		t.Errorf("PUT of an invalid entry name: %d, want 400", code)
	}

	dir := t.TempDir()
	write := func(path, s string) {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "scripts/example.com/bob.sieve"), `require ["mboxmetadata", "mailbox", "special-use", "extlists", "vacation", "enotify"];
if allof (metadata "INBOX" "/private/vacation" "on", mailboxexists "Archive", specialuse_exists "\\Junk",
          address :list "from" ":addrbook:vip") {
	notify "mailto:bob@mobile.example.net";
	vacation "I am away.";
}
`)
	write(filepath.Join(dir, "boxes/bob@example.com"), "Archive\nSpam\t\\Junk\n")
	write(filepath.Join(dir, "lists/addrbook:vip"), "alice@example.org\n")
	o := &serveOptions{scripts: filepath.Join(dir, "scripts"), hostname: "mx.example.com",
		extensions:    "+mboxmetadata +special-use +extlists",
		sourceOptions: sourceOptions{mailboxDir: filepath.Join(dir, "boxes"), listDir: filepath.Join(dir, "lists")}}
	svc, err := newDeliveryService(o, db, nil, delivery.NewMetrics(nil), slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	env := &transport.Envelope{From: "alice@example.org", Recipients: []transport.Recipient{{Addr: "bob@example.com"}}}
	msg := "From: alice@example.org\r\nTo: bob@example.com\r\nSubject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nhi\r\n"
	if st := svc.Deliver(context.Background(), env, []byte(msg)); st[0].Code != 250 {
		t.Fatalf("status %v", st)
	}
	recs, _ := db.ListOutbox()
	kinds := map[string]bool{}
	for _, r := range recs {
		kinds[r.Kind] = true
	}
	if len(recs) != 2 || !kinds[store.KindVacation] || !kinds[store.KindNotify] {
		t.Errorf("outbox: %v, want a reply and a notification (the script's conditions all hold)", recs)
	}
}

func TestServeSourcesOptions(t *testing.T) {
	db := openTestDB(t)
	dir := t.TempDir()
	key := filepath.Join(dir, "key")
	if err := os.WriteFile(key, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		o    sourceOptions
		want string
	}{
		{sourceOptions{doveadmURL: "http://127.0.0.1:8080/doveadm/v1"}, "needs --doveadm-api-key-file"},
		{sourceOptions{doveadmURL: "http://x/doveadm/v1", doveadmKey: key, mailboxDir: dir}, "both given"},
		{sourceOptions{doveadmURL: "http://x/doveadm/v1", doveadmKey: filepath.Join(dir, "none")}, "--doveadm-api-key-file"},
		{sourceOptions{mailboxDir: filepath.Join(dir, "none")}, "not a directory"},
		{sourceOptions{doveadmURL: "http://x/doveadm/v1", doveadmKey: key}, ""},
	} {
		us, _, err := serveSources(&serveOptions{sourceOptions: tc.o}, db, nil)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%+v: %v", tc.o, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%+v: error %v, want %q", tc.o, err, tc.want)
		case tc.want == "" && us.(*sources.UserSources).Doveadm.APIKey != "s3cret":
			t.Errorf("%+v: doveadm key not read", tc.o)
		}
	}
}

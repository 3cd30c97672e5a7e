package sources

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
)

// Doveadm asks Dovecot behind vacationd, through its doveadm HTTP API,
// which mailboxes a user has (mailboxList) and the METADATA entries of
// those mailboxes (mailboxMetadataGet). A user Dovecot does not know has
// only INBOX; Dovecot not answering is an error (the delivery is retried).
type Doveadm struct {
	// URL is the API endpoint, e.g. http://127.0.0.1:8080/doveadm/v1.
	URL string
	// APIKey is doveadm_api_key (sent as X-Dovecot-API); Password, when
	// set instead, is doveadm_password (HTTP Basic as user doveadm).
	APIKey, Password string
	// Client makes the requests; nil means one with a 5 second timeout.
	Client *http.Client
}

// exitNoUser is doveadm's exit code for an unknown user (EX_NOUSER).
const exitNoUser = 67

var errNoUser = errors.New("unknown user")

// call runs one doveadm command and returns its result rows.
func (d *Doveadm) call(ctx context.Context, cmd string, params map[string]string) ([]map[string]string, error) {
	body, err := json.Marshal([][]any{{cmd, params, "c"}})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("doveadm %s: %w", cmd, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if d.Password != "" {
		req.SetBasicAuth("doveadm", d.Password)
	} else {
		req.Header.Set("Authorization", "X-Dovecot-API "+base64.StdEncoding.EncodeToString([]byte(d.APIKey)))
	}
	c := d.Client
	if c == nil {
		c = &http.Client{Timeout: 5 * time.Second}
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("doveadm %s: %w", cmd, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return nil, fmt.Errorf("doveadm %s: %w", cmd, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("doveadm %s: HTTP %s", cmd, resp.Status)
	}
	var out []json.RawMessage
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != 1 {
		return nil, fmt.Errorf("doveadm %s: unexpected answer %.200q", cmd, raw)
	}
	var row []json.RawMessage
	var kind string
	if err := json.Unmarshal(out[0], &row); err != nil || len(row) < 2 || json.Unmarshal(row[0], &kind) != nil {
		return nil, fmt.Errorf("doveadm %s: unexpected answer %.200q", cmd, raw)
	}
	switch kind {
	case "doveadmResponse":
		var rows []map[string]string
		if err := json.Unmarshal(row[1], &rows); err != nil {
			return nil, fmt.Errorf("doveadm %s: unexpected answer %.200q", cmd, raw)
		}
		return rows, nil
	case "error":
		var e struct {
			Type     string `json:"type"`
			ExitCode int    `json:"exitCode"`
		}
		_ = json.Unmarshal(row[1], &e)
		if e.ExitCode == exitNoUser {
			return nil, errNoUser
		}
		return nil, fmt.Errorf("doveadm %s: error %s exit code %d", cmd, e.Type, e.ExitCode)
	}
	return nil, fmt.Errorf("doveadm %s: unexpected answer %.200q", cmd, raw)
}

// Mailboxes lists the user's mailboxes.
func (d *Doveadm) Mailboxes(ctx context.Context, user string) (Mailboxes, error) {
	rows, err := d.call(ctx, "mailboxList", map[string]string{"user": user})
	if errors.Is(err, errNoUser) {
		return Mailboxes{}, nil
	}
	if err != nil {
		return nil, err
	}
	out := Mailboxes{}
	for _, r := range rows {
		if name := r["mailbox"]; name != "" {
			out[name] = nil
		}
	}
	return out, nil
}

// Metadata reads a mailbox's METADATA entry; an empty value is an entry
// that is not set (RFC 5464 has no empty values).
func (d *Doveadm) Metadata(ctx context.Context, user, mailbox, entry string) (string, bool, error) {
	rows, err := d.call(ctx, "mailboxMetadataGet", map[string]string{"user": user, "mailbox": mailbox, "key": entry})
	if errors.Is(err, errNoUser) {
		return "", false, nil
	}
	if err != nil || len(rows) == 0 {
		return "", false, err
	}
	v := rows[0]["value"]
	return v, v != "", nil
}

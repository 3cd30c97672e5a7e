package sieve

import (
	"strings"
	"unicode/utf8"

	"github.com/vacationd/vacationd/internal/mailtext"
)

// The editheader extension (RFC 5293): addheader and deleteheader. An edit
// replaces the run's message (Message.WithFields), so later tests see it;
// actions keep the message as it was when they were executed.
//
// Settings, as in Pigeonhole:
//   - sieve_editheader_max_header_size: largest value addheader accepts
//     (default 2048, at least 1024).
//   - sieve_editheader_header: names of configured headers; for each name N,
//     sieve_editheader_header/N/forbid_add and .../forbid_delete (booleans).
//   - sieve_editheader_protected, sieve_editheader_forbid_add,
//     sieve_editheader_forbid_delete: the older space-separated lists.
//
// Received and Auto-Submitted can never be deleted, Subject can always be
// added and deleted (RFC 5293 §6), X-Sieve-Redirected-From is never
// touched.

const (
	editheaderDefaultMaxSize = 2048
	editheaderMinMaxSize     = 1024
)

func editheaderExtension() *extension {
	return &extension{name: "editheader", specs: []*spec{
		{name: "addheader", tags: []tagSpec{{name: "last"}},
			args: []argType{tString, tString}, argNames: []string{"field name", "value"},
			check: checkAddHeader, exec: execAddHeader},
		{name: "deleteheader", match: true,
			tags: []tagSpec{{name: "index", arg: tNumber}, {name: "last"}},
			args: []argType{tString, tStringList}, optArg: 1, argNames: []string{"field name", "value patterns"},
			check: checkDeleteHeader, exec: execDeleteHeader},
	}}
}

// editheaderMaxSize reads sieve_editheader_max_header_size.
func editheaderMaxSize(s Settings) int64 {
	n := s.Int("sieve_editheader_max_header_size", editheaderDefaultMaxSize)
	if n < editheaderMinMaxSize {
		n = editheaderMinMaxSize
	}
	return n
}

// editFieldNameValid checks a field name as Pigeonhole does: printable
// ASCII except ':' (RFC 5322 ftext).
func editFieldNameValid(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return s != ""
}

// editFieldValueValid checks an addheader value: no control characters
// besides TAB, CR and LF; 8-bit text must be UTF-8.
func editFieldValueValid(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\r' && c != '\n' || c == 0x7f {
			return false
		}
	}
	return utf8.ValidString(s)
}

// editheaderRules answers which headers may be added or deleted.
type editheaderRules struct {
	forbidAdd, forbidDelete map[string]bool
}

func newEditheaderRules(s Settings) editheaderRules {
	r := editheaderRules{forbidAdd: map[string]bool{}, forbidDelete: map[string]bool{}}
	list := func(name string, sets ...map[string]bool) {
		for _, h := range strings.Fields(s.String(name, "")) {
			for _, m := range sets {
				m[strings.ToLower(h)] = true
			}
		}
	}
	list("sieve_editheader_protected", r.forbidAdd, r.forbidDelete)
	list("sieve_editheader_forbid_add", r.forbidAdd)
	list("sieve_editheader_forbid_delete", r.forbidDelete)
	for _, h := range strings.Fields(s.String("sieve_editheader_header", "")) {
		key := "sieve_editheader_header/" + h + "/"
		if s.Bool(key+"forbid_add", false) {
			r.forbidAdd[strings.ToLower(h)] = true
		}
		if s.Bool(key+"forbid_delete", false) {
			r.forbidDelete[strings.ToLower(h)] = true
		}
	}
	return r
}

func (e editheaderRules) allowAdd(name string) bool {
	switch strings.ToLower(name) {
	case "subject":
		return true
	case "x-sieve-redirected-from":
		return false
	}
	return !e.forbidAdd[strings.ToLower(name)]
}

func (e editheaderRules) allowDelete(name string) bool {
	switch strings.ToLower(name) {
	case "received", "auto-submitted", "x-sieve-redirected-from":
		return false
	case "subject":
		return true
	}
	return !e.forbidDelete[strings.ToLower(name)]
}

// checkEditFieldName checks the literal field name of an addheader or
// deleteheader command (cmd, doing "adding" or "deleting"): an invalid one
// is an error, and false; one allow refuses under the editheader settings
// a warning. A name known only when run is left to the action.
func checkEditFieldName(c *checker, s *str, cmd, doing string, allow func(editheaderRules, string) bool) bool {
	if s.parts != nil {
		return true
	}
	if !editFieldNameValid(s.lit) {
		c.errorf(s.pos, "%s command: specified field name '%s' is invalid", cmd, sanitize(s.lit, 80))
		return false
	}
	if !allow(newEditheaderRules(c.opts.Settings), s.lit) {
		c.warnf(s.pos, "%s command: %s specified header field '%s' is forbidden; modification will be denied", cmd, doing, sanitize(s.lit, 80))
	}
	return true
}

// editFieldName is checkEditFieldName when the action runs: an invalid
// name is an error, one allow refuses a warning and no edit (false).
func editFieldName(r *run, n *node, name, cmd, doing string, allow func(editheaderRules, string) bool) (bool, error) {
	if !editFieldNameValid(name) {
		return false, r.errorf(n.pos, "%s action: specified field name '%s' is invalid", cmd, sanitize(name, 80))
	}
	if !allow(newEditheaderRules(r.settings()), name) {
		r.warnf(n.pos, "%s action: %s specified header field '%s' is forbidden; modification denied", cmd, doing, sanitize(name, 80))
		return false, nil
	}
	return true, nil
}

func checkAddHeader(c *checker, n *node) {
	if !checkEditFieldName(c, n.args[0].strs[0], "addheader", "adding", editheaderRules.allowAdd) {
		return
	}
	s := n.args[1].strs[0]
	if s.parts != nil {
		return
	}
	switch {
	case strings.IndexByte(s.lit, 0) >= 0:
		c.errorf(s.pos, "addheader command: specified value '%s' is invalid (contains NUL character)", sanitize(s.lit, 80))
	case !editFieldValueValid(s.lit):
		c.errorf(s.pos, "addheader command: specified value '%s' is invalid", sanitize(s.lit, 80))
	case int64(len(s.lit)) > editheaderMaxSize(c.opts.Settings):
		c.errorf(s.pos, "addheader command: specified header value '%s' is too large (%d bytes)", sanitize(s.lit, 80), len(s.lit))
	}
}

func execAddHeader(r *run, n *node) error {
	name := r.string(n.args[0])
	value := r.string(n.args[1])
	if ok, err := editFieldName(r, n, name, "addheader", "adding", editheaderRules.allowAdd); !ok {
		return err
	}
	settings := r.settings()
	if strings.IndexByte(value, 0) >= 0 {
		return r.errorf(n.pos, "addheader action: specified value '%s' is invalid (contains NUL character)", sanitize(value, 80))
	}
	if int64(len(value)) > editheaderMaxSize(settings) {
		return r.errorf(n.pos, "addheader action: specified header value '%s' is too large (%d bytes)", sanitize(value, 80), len(value))
	}
	name = mailtext.FieldName(name)
	f := Field{Name: name, Value: " " + foldHeaderValue(len(name), encodeHeaderValue(value)), Added: true}
	fields := make([]Field, 0, len(r.msg.Fields)+1)
	if n.has("last") {
		fields = append(append(fields, r.msg.Fields...), f)
	} else {
		fields = append(append(fields, f), r.msg.Fields...)
	}
	r.editMessage(fields)
	r.tracef("%s: addheader %q", n.pos, name)
	return nil
}

func checkDeleteHeader(c *checker, n *node) {
	if t, ok := n.tag("last"); ok && !n.has("index") {
		c.errorf(t.pos, "the :last tag for the deleteheader command cannot be specified without the :index tag")
		return
	}
	checkEditFieldName(c, n.args[0].strs[0], "deleteheader", "deleting", editheaderRules.allowDelete)
}

func execDeleteHeader(r *run, n *node) error {
	name := r.string(n.args[0])
	if ok, err := editFieldName(r, n, name, "deleteheader", "deleting", editheaderRules.allowDelete); !ok {
		return err
	}
	index := 0
	if v := n.tagValue("index"); v != nil && v.num <= 1<<31-1 {
		index = int(v.num)
	}
	var keys []string
	if len(n.args) > 1 {
		keys = r.strings(n.args[1])
	}
	fields := r.msg.Fields
	var order []int
	for i, f := range fields {
		if strings.EqualFold(f.Name, name) {
			order = append(order, i)
		}
	}
	if n.has("last") {
		for i, j := 0, len(order)-1; i < j; i, j = i+1, j-1 {
			order[i], order[j] = order[j], order[i]
		}
	}
	del := map[int]bool{}
	for pos, i := range order {
		if index != 0 && pos+1 != index {
			continue
		}
		if len(n.args) < 2 {
			del[i] = true
		} else {
			ok, err := r.match(n, []string{DecodeWords(Unfold(fields[i].Value))}, keys)
			if err != nil {
				return err
			}
			if ok {
				del[i] = true
			}
		}
		if index != 0 {
			break
		}
	}
	if len(del) == 0 {
		return nil
	}
	kept := make([]Field, 0, len(fields)-len(del))
	for i, f := range fields {
		if !del[i] {
			kept = append(kept, f)
		}
	}
	r.editMessage(kept)
	r.tracef("%s: deleteheader %q: %d deleted", n.pos, name, len(del))
	return nil
}

// editState remembers the message as received, for the implicit keep of a
// failed run (which must not see editheader changes).
type editState struct{ orig *Message }

// editMessage replaces the run's message header with fields.
func (r *run) editMessage(fields []Field) {
	if _, ok := r.ext["editheader"]; !ok {
		r.ext["editheader"] = &editState{orig: r.msg}
	}
	r.msg = r.msg.WithFields(fields)
}

// originalMessage is the message before any editheader change.
func (r *run) originalMessage() *Message {
	if st, ok := r.ext["editheader"].(*editState); ok {
		return st.orig
	}
	return r.msg
}

// snapshotMessage records on a delivering action the message as it is
// when the action is executed: later header edits do not change it.
func (r *run) snapshotMessage(a Action) {
	if r.msg == nil {
		return
	}
	switch a := a.(type) {
	case *Keep:
		if a.Message == nil {
			a.Message = r.msg
		}
	case *FileInto:
		if a.Message == nil {
			a.Message = r.msg
		}
	case *Redirect:
		if a.Message == nil {
			a.Message = r.msg
		}
	case *Pipe:
		if a.Message == nil {
			a.Message = r.msg
		}
	}
}

// actionMessage is the message a delivering action stores or sends: its
// snapshot, else def.
func actionMessage(a Action, def *Message) *Message {
	var m *Message
	switch a := a.(type) {
	case *Keep:
		m = a.Message
	case *FileInto:
		m = a.Message
	case *Redirect:
		m = a.Message
	case *Pipe:
		m = a.Message
	}
	if m == nil {
		return def
	}
	return m
}

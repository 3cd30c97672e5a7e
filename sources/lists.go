package sources

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/vacationd/vacationd/sieve"
)

// dictListPrefix is the key prefix of list items in a Dovecot file dict,
// as Pigeonhole looks them up (priv/sieve/extlists/ITEM).
const dictListPrefix = "priv/sieve/extlists/"

// Lists is a set of external lists by normalized name. The zero value
// has no list.
type Lists map[string]*List

// List is one external list.
type List struct {
	Items map[string]bool
	// Fold makes items compare ignoring case (Items are lower case).
	Fold bool
	// Path, when Items is nil, is the Dovecot file dict the items are
	// read from at the first lookup (as Pigeonhole opens a list's dict
	// only when a script looks into it).
	Path string
}

// HasList reports whether the named (normalized) list exists.
func (l Lists) HasList(name string) bool { _, ok := l[name]; return ok }

// ListContains reports whether the list holds item: exactly, or ignoring
// case for lists read by ListDir.
func (l Lists) ListContains(name, item string) (bool, error) {
	list := l[name]
	if list == nil {
		return false, nil
	}
	if list.Items == nil && list.Path != "" {
		items, err := readFileDict(list.Path)
		if err != nil {
			return false, fmt.Errorf("list '%s': %w", name, err)
		}
		list.Items = items
	}
	if list.Fold {
		item = strings.ToLower(item)
	}
	return list.Items[item], nil
}

// ListsFromSettings reads the lists Pigeonhole's settings configure:
// sieve_extlists_list names them; sieve_extlists_list/NAME/name gives a
// list's URI and sieve_extlists_list/NAME/dict/file/path the Dovecot file
// dict holding its items (a list without one is empty). Relative dict
// paths are taken from dir.
func ListsFromSettings(s sieve.Settings, dir string) (Lists, error) {
	out := Lists{}
	for _, key := range strings.Fields(s.String("sieve_extlists_list", "")) {
		prefix := "sieve_extlists_list/" + key + "/"
		name := s.String(prefix+"name", key)
		norm, ok := sieve.NormalizeListName(name)
		if !ok {
			return nil, fmt.Errorf("sieve_extlists_list: list name '%s' is invalid", name)
		}
		list := &List{Items: map[string]bool{}}
		if d := s.String(prefix+"dict", ""); d != "" {
			path := s.String(prefix+"dict/"+d+"/path", "")
			if path == "" {
				return nil, fmt.Errorf("sieve_extlists_list: list '%s': dict '%s' has no path", name, d)
			}
			if !filepath.IsAbs(path) {
				path = filepath.Join(dir, path)
			}
			list = &List{Path: path}
		}
		out[norm] = list
	}
	return out, nil
}

// readFileDict reads the list items of a Dovecot file dict: lines
// alternate between keys and values; keys under priv/sieve/extlists/ are
// the items.
func readFileDict(path string) (map[string]bool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	items := map[string]bool{}
	lines := strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n")
	for i := 0; i+1 < len(lines); i += 2 {
		if item, ok := strings.CutPrefix(lines[i], dictListPrefix); ok && item != "" {
			items[item] = true
		}
	}
	return items, nil
}

// ListDir reads lists from a directory: the file named NAME holds the list
// urn:ietf:params:sieve:NAME (e.g. "addrbook:family"), one item per line;
// blank lines and lines starting with '#' are skipped. Items compare
// case-insensitively, as addresses do in practice.
func ListDir(dir string) (Lists, error) {
	ents, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return Lists{}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("list directory: %w", err)
	}
	out := Lists{}
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		norm, ok := sieve.NormalizeListName(":" + e.Name())
		if !ok {
			return nil, fmt.Errorf("list directory %s: file name %q is no list name", dir, e.Name())
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("list directory: %w", err)
		}
		items := map[string]bool{}
		sc := bufio.NewScanner(bytes.NewReader(b))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || line[0] == '#' {
				continue
			}
			items[strings.ToLower(line)] = true
		}
		out[norm] = &List{Items: items, Fold: true}
	}
	return out, nil
}

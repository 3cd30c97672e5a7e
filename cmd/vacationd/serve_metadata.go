package main

import (
	"io"
	"net/http"

	"github.com/vacationd/vacationd/sieve"
	"github.com/vacationd/vacationd/store"
)

// metadataJSON is one METADATA entry as /metadata lists it.
type metadataJSON struct {
	Mailbox string `json:"mailbox"` // "" for the server's entries
	Entry   string `json:"entry"`
	Value   string `json:"value"`
}

// metadataHandler is /metadata, the operator's interface to the METADATA
// entries the mboxmetadata and servermetadata tests read:
//
//	GET    /metadata?user=U                        lists U's entries
//	PUT    /metadata?user=U&mailbox=M&entry=E      sets E (the body is the value)
//	DELETE /metadata?user=U&mailbox=M&entry=E      removes E
//
// mailbox empty (or absent) means the server's entries (servermetadata).
func metadataHandler(db store.State) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		md, ok := db.(store.Metadata)
		if !ok {
			jsonError(w, http.StatusNotImplemented, "this state store keeps no metadata")
			return
		}
		q := r.URL.Query()
		user, mailbox, entry := q.Get("user"), q.Get("mailbox"), q.Get("entry")
		if user == "" {
			jsonError(w, http.StatusBadRequest, "user parameter required")
			return
		}
		if r.Method != http.MethodGet {
			if why := sieve.MetadataEntryProblem(entry); why != "" {
				jsonError(w, http.StatusBadRequest, "entry "+sieve.Sanitize(entry, 128)+": "+why)
				return
			}
		}
		var err error
		switch r.Method {
		case http.MethodGet:
			var list []store.MetadataEntry
			if list, err = md.ListMetadata(user); err == nil {
				out := make([]metadataJSON, 0, len(list))
				for _, e := range list {
					out = append(out, metadataJSON{Mailbox: e.Mailbox, Entry: e.Entry, Value: e.Value})
				}
				writeJSON(w, http.StatusOK, out)
				return
			}
		case http.MethodPut:
			body, rerr := io.ReadAll(io.LimitReader(r.Body, 64<<10+1))
			if rerr != nil {
				jsonError(w, http.StatusBadRequest, "reading the value: "+rerr.Error())
				return
			}
			err = md.SetMetadata(user, mailbox, entry, string(body))
		case http.MethodDelete:
			err = md.DeleteMetadata(user, mailbox, entry)
		default:
			jsonError(w, http.StatusMethodNotAllowed, "GET, PUT or DELETE")
			return
		}
		if err != nil {
			jsonError(w, storeErrorCode(err), err.Error())
			return
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}
}

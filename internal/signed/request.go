package signed

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"time"
)

const requestMagic = "clawwarden-request v1\n"

// Request is a privileged command the agent asked for, as the root helper
// filed it. Everything but ID, InstallID, Account, UID and the hashes is the
// agent's data: show it escaped and labelled as the agent's words.
type Request struct {
	// ID is random (see NewID) and accepted once; it appears as 32
	// lowercase hex digits in text.
	ID        [16]byte
	InstallID string // this host's clawwarden install id
	Account   string // the agent's unix account
	UID       int
	Argv      []string
	// Binary is the absolute path the root helper will execute, and
	// BinarySHA256 the hex SHA-256 of the file it opened there.
	Binary       string
	BinarySHA256 string
	Staged       []Staged
	Cwd          string
	Reason       string // the agent's stated reason
	TaskID       string
	Scope        Scope // what the agent asked for; the decision's scope is what counts
	Created      time.Time
	Expires      time.Time
}

// Staged is an agent-writable input named in argv, copied to a root-owned
// file before the request is filed, so what was approved is what runs.
type Staged struct {
	Path   string // where the agent's file was
	Copy   string // the root-owned copy that argv refers to when run
	Size   int64
	SHA256 string
}

// NewID returns a random request id.
func NewID() [16]byte {
	var id [16]byte
	rand.Read(id[:]) // never returns an error; crashes the program if it would
	return id
}

// ParseID reads an id written as 32 lowercase hex digits.
func ParseID(s string) ([16]byte, error) {
	var id [16]byte
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) || hex.EncodeToString(b) != s {
		return id, fmt.Errorf("request id %q: want 32 lowercase hex digits", s)
	}
	copy(id[:], b)
	return id, nil
}

// IDString returns the id as 32 lowercase hex digits.
func (r Request) IDString() string { return hex.EncodeToString(r.ID[:]) }

// Marshal returns the canonical bytes of r (see the package doc). Call
// Validate first: only valid requests are guaranteed to parse back.
func (r Request) Marshal() []byte {
	e := encoder{b: []byte(requestMagic)}
	e.field("id", r.IDString())
	e.field("install-id", r.InstallID)
	e.field("account", r.Account)
	e.field("uid", strconv.Itoa(r.UID))
	e.field("argc", strconv.Itoa(len(r.Argv)))
	for _, a := range r.Argv {
		e.field("arg", a)
	}
	e.field("binary", r.Binary)
	e.field("binary-sha256", r.BinarySHA256)
	e.field("staged", strconv.Itoa(len(r.Staged)))
	for _, s := range r.Staged {
		e.field("staged-path", s.Path)
		e.field("staged-copy", s.Copy)
		e.field("staged-size", strconv.FormatInt(s.Size, 10))
		e.field("staged-sha256", s.SHA256)
	}
	e.field("cwd", r.Cwd)
	e.field("reason", r.Reason)
	e.field("task-id", r.TaskID)
	e.field("scope", r.Scope.String())
	e.field("created", formatTime(r.Created))
	e.field("expires", formatTime(r.Expires))
	return e.b
}

// Digest returns the hex SHA-256 of r's canonical bytes, the value a
// Decision names in RequestSHA256.
func (r Request) Digest() string { return sha256Hex(sha256.Sum256(r.Marshal())) }

// Validate reports whether r is complete and fits in MaxMessage bytes.
func (r Request) Validate() error {
	if err := r.validate(); err != nil {
		return fmt.Errorf("request: %w", err)
	}
	return nil
}

func (r Request) validate() error {
	if r.ID == [16]byte{} {
		return fmt.Errorf("id is not set")
	}
	if err := checkToken("install id", r.InstallID); err != nil {
		return err
	}
	if err := checkToken("account", r.Account); err != nil {
		return err
	}
	if r.UID < 0 {
		return fmt.Errorf("uid %d is negative", r.UID)
	}
	if len(r.Argv) == 0 {
		return fmt.Errorf("argv is empty")
	}
	for i, a := range r.Argv {
		if err := checkNoNUL("argv["+strconv.Itoa(i)+"]", a); err != nil {
			return err
		}
	}
	if err := checkPath("binary", r.Binary); err != nil {
		return err
	}
	if err := checkSHA256("binary sha256", r.BinarySHA256); err != nil {
		return err
	}
	for i, s := range r.Staged {
		name := "staged[" + strconv.Itoa(i) + "]"
		if err := checkPath(name+" path", s.Path); err != nil {
			return err
		}
		if err := checkPath(name+" copy", s.Copy); err != nil {
			return err
		}
		if s.Size < 0 {
			return fmt.Errorf("%s size %d is negative", name, s.Size)
		}
		if err := checkSHA256(name+" sha256", s.SHA256); err != nil {
			return err
		}
	}
	if err := checkNoNUL("cwd", r.Cwd); err != nil {
		return err
	}
	if err := r.Scope.Validate(); err != nil {
		return err
	}
	if err := checkTime("created", r.Created); err != nil {
		return err
	}
	if err := checkTime("expires", r.Expires); err != nil {
		return err
	}
	if !r.Expires.After(r.Created) {
		return fmt.Errorf("expires %s is not after created %s", formatTime(r.Expires), formatTime(r.Created))
	}
	if n := len(r.Marshal()); n > MaxMessage {
		return fmt.Errorf("%d bytes, more than the %d allowed", n, MaxMessage)
	}
	return nil
}

// ParseRequest reads canonical request bytes. It refuses anything Marshal
// would not have produced from a valid Request, including decision bytes.
func ParseRequest(b []byte) (Request, error) {
	if len(b) > MaxMessage {
		return Request{}, fmt.Errorf("request: %w: %d bytes, more than the %d allowed", ErrMalformed, len(b), MaxMessage)
	}
	d := decoder{b: b}
	d.magic(requestMagic)
	var r Request
	id := d.field("id")
	if d.err == nil {
		var err error
		if r.ID, err = ParseID(id); err != nil {
			d.fail("%v", err)
		}
	}
	r.InstallID = d.field("install-id")
	r.Account = d.field("account")
	r.UID = int(d.decimal("uid", 1<<32-1))
	// Counts are bounded by the input: every field takes at least 4 bytes.
	if n := d.count("argc"); n <= len(b)/4 {
		for range n {
			r.Argv = append(r.Argv, d.field("arg"))
		}
	} else {
		d.fail("argc %d is larger than the input allows", n)
	}
	r.Binary = d.field("binary")
	r.BinarySHA256 = d.field("binary-sha256")
	if n := d.count("staged"); n <= len(b)/16 {
		for range n {
			var s Staged
			s.Path = d.field("staged-path")
			s.Copy = d.field("staged-copy")
			s.Size = d.decimal("staged-size", 1<<62)
			s.SHA256 = d.field("staged-sha256")
			r.Staged = append(r.Staged, s)
		}
	} else {
		d.fail("staged count %d is larger than the input allows", n)
	}
	r.Cwd = d.field("cwd")
	r.Reason = d.field("reason")
	r.TaskID = d.field("task-id")
	if s := d.field("scope"); d.err == nil {
		var err error
		if r.Scope, err = parseScope(s); err != nil {
			d.fail("%v", err)
		}
	}
	r.Created = d.time("created")
	r.Expires = d.time("expires")
	if err := d.end(); err != nil {
		return Request{}, fmt.Errorf("request: %w", err)
	}
	if err := r.Validate(); err != nil {
		return Request{}, err
	}
	if !bytes.Equal(r.Marshal(), b) {
		return Request{}, fmt.Errorf("request: %w: not in canonical form", ErrMalformed)
	}
	return r, nil
}

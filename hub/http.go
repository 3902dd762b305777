package hub

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

const (
	// headTimeout bounds a metadata request, as huggingface_hub's
	// DEFAULT_ETAG_TIMEOUT does.
	headTimeout = 10 * time.Second
	// idleTimeout aborts a download that has received nothing for this long.
	idleTimeout = 30 * time.Second
	// maxRedirects bounds the redirects followed for one request.
	maxRedirects = 10
	// maxFileSize bounds the size a server may announce for one file.
	maxFileSize = 1 << 40
	// maxEtag bounds an etag, which names a file under blobs/.
	maxEtag   = 128
	userAgent = "loom-hub/1 (+https://github.com/loomai/loom)"
)

// errUnreachable marks failures that did not come from the hub's own
// answer (transport errors, timeouts, 5xx): Resolve then falls back to the
// cache, as huggingface_hub does when the network is down.
var errUnreachable = errors.New("hub unreachable")

// client talks to one hub endpoint. Redirects are followed by hand so that
// HEAD follows only relative ones (as huggingface_hub does, to keep the
// X-Linked-* headers of a CDN redirect) and so that the token is attached
// only to requests for the endpoint's own scheme and host: Go's client would
// forward it to a subdomain such as a CDN, or to another port.
type client struct {
	http     *http.Client
	endpoint *url.URL
	token    string
}

func newClient(endpoint, token string) (*client, error) {
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	u, err := url.Parse(strings.TrimRight(endpoint, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("hub: endpoint %q: want an http(s) URL without query", endpoint)
	}
	return &client{
		http: &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		}},
		endpoint: u,
		token:    token,
	}, nil
}

// fileURL is {endpoint}/{repo}/resolve/{revision}/{file}, with the revision
// escaped whole (refs/pr/1 becomes refs%2Fpr%2F1) and the file per segment,
// as huggingface_hub's hf_hub_url does.
func (c *client) fileURL(repo, revision, name string) *url.URL {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := *c.endpoint
	u.Path = c.endpoint.Path + "/" + repo + "/resolve/" + revision + "/" + name
	u.RawPath = c.endpoint.EscapedPath() + "/" + repo + "/resolve/" + url.PathEscape(revision) + "/" + strings.Join(segs, "/")
	return &u
}

// do sends one request, without following redirects.
func (c *client) do(ctx context.Context, method string, u *url.URL, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, fmt.Errorf("hub: %s %s: %w", method, redact(u), err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", userAgent)
	if c.token != "" && u.Scheme == c.endpoint.Scheme && u.Host == c.endpoint.Host {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("hub: %s %s: %w", method, redact(u), context.Cause(ctx))
		}
		return nil, fmt.Errorf("hub: %s %s: %w: %w", method, redact(u), errUnreachable, err)
	}
	return resp, nil
}

// meta is what a HEAD tells about a file at a revision.
type meta struct {
	commit string // 40-hex commit the revision resolved to
	etag   string // sha256 (64 hex) for LFS files, git blob id otherwise
	size   int64
}

// lfs reports whether the etag is an LFS sha256 the content can be checked
// against.
func (m meta) lfs() bool { return len(m.etag) == 64 && isLowerHex(m.etag) }

// head fetches a file's metadata like huggingface_hub's
// get_hf_file_metadata: HEAD with Accept-Encoding: identity, relative
// redirects followed (a renamed repo), absolute ones not (their response
// carries X-Linked-Etag and X-Linked-Size for LFS files).
func (c *client) head(ctx context.Context, repo, revision, name string) (meta, error) {
	ctx, cancel := context.WithTimeout(ctx, headTimeout)
	defer cancel()
	u := c.fileURL(repo, revision, name)
	header := http.Header{"Accept-Encoding": {"identity"}}
	for i := 0; ; i++ {
		resp, err := c.do(ctx, http.MethodHead, u, header)
		if err != nil {
			return meta{}, err
		}
		resp.Body.Close()
		if isRedirect(resp.StatusCode) {
			loc, err := url.Parse(resp.Header.Get("Location"))
			if err == nil && loc.Scheme == "" && loc.Host == "" && loc.Path != "" {
				if i == maxRedirects {
					return meta{}, fmt.Errorf("hub: HEAD %s: %w: over %d redirects", redact(u), ErrMalformed, maxRedirects)
				}
				u = u.ResolveReference(loc)
				continue
			}
		} else if resp.StatusCode != http.StatusOK {
			return meta{}, c.statusError(resp, u)
		}
		m, err := parseMeta(resp.Header)
		if err != nil {
			return meta{}, fmt.Errorf("hub: HEAD %s: %w", redact(u), err)
		}
		return m, nil
	}
}

// parseMeta reads X-Repo-Commit, X-Linked-Etag (else ETag) and
// X-Linked-Size (else Content-Length), validating each since they become
// path names and allocation sizes.
func parseMeta(h http.Header) (meta, error) {
	var m meta
	m.commit = h.Get("X-Repo-Commit")
	if !isCommitHash(m.commit) {
		return m, fmt.Errorf("%w: X-Repo-Commit %q is not a commit hash (is the endpoint a Hugging Face hub?)", ErrMalformed, clip(m.commit))
	}
	etag := h.Get("X-Linked-Etag")
	if etag == "" {
		etag = h.Get("ETag")
	}
	m.etag = strings.Trim(strings.TrimPrefix(etag, "W/"), `"`)
	if !validEtag(m.etag) {
		return m, fmt.Errorf("%w: etag %q", ErrMalformed, clip(etag))
	}
	size := h.Get("X-Linked-Size")
	if size == "" {
		size = h.Get("Content-Length")
	}
	n, err := strconv.ParseInt(size, 10, 64)
	if err != nil || n < 0 {
		return m, fmt.Errorf("%w: file size %q", ErrMalformed, clip(size))
	}
	if n > maxFileSize {
		return m, fmt.Errorf("%w: file size %d over %d", ErrTooLarge, n, int64(maxFileSize))
	}
	m.size = n
	return m, nil
}

func validEtag(s string) bool {
	if s == "" || len(s) > maxEtag {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

// get starts a download of a file at a commit, from offset on (a Range
// request when offset > 0), following redirects. The caller checks the
// status and closes the body.
func (c *client) get(ctx context.Context, repo, commit, name string, offset int64) (*http.Response, error) {
	u := c.fileURL(repo, commit, name)
	header := http.Header{}
	if offset > 0 {
		header.Set("Range", fmt.Sprintf("bytes=%d-", offset))
	}
	for i := 0; ; i++ {
		resp, err := c.do(ctx, http.MethodGet, u, header)
		if err != nil {
			return nil, err
		}
		if !isRedirect(resp.StatusCode) {
			return resp, nil
		}
		loc, err := resp.Location()
		resp.Body.Close()
		if err != nil || (loc.Scheme != "http" && loc.Scheme != "https") {
			return nil, fmt.Errorf("hub: GET %s: %w: bad redirect", redact(u), ErrMalformed)
		}
		if i == maxRedirects {
			return nil, fmt.Errorf("hub: GET %s: %w: over %d redirects", redact(u), ErrMalformed, maxRedirects)
		}
		u = loc
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// statusError maps an unexpected answer to a sentinel the way
// huggingface_hub's hf_raise_for_status does: X-Error-Code first, then the
// status.
func (c *client) statusError(resp *http.Response, u *url.URL) error {
	var kind error
	switch code := resp.Header.Get("X-Error-Code"); {
	case code == "GatedRepo":
		kind = ErrUnauthorized
	case code == "RepoNotFound":
		kind = ErrRepoNotFound
	case code == "RevisionNotFound":
		kind = ErrRevisionNotFound
	case code == "EntryNotFound":
		kind = ErrEntryNotFound
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		kind = ErrUnauthorized
	case resp.StatusCode == http.StatusNotFound:
		kind = ErrEntryNotFound
	case resp.StatusCode >= 500:
		kind = errUnreachable
	default:
		kind = ErrHTTP
	}
	extra := ""
	if m := resp.Header.Get("X-Error-Message"); m != "" {
		extra = ": " + clip(m)
	}
	if kind == ErrUnauthorized || kind == ErrRepoNotFound {
		if c.token == "" {
			extra += "; gated and private repos need a token: set HF_TOKEN or run `hf auth login`"
		} else {
			extra += "; the token was sent but gives no access (for a gated repo, accept its terms on the hub)"
		}
	}
	return fmt.Errorf("hub: %s %s: %w (HTTP %d)%s", resp.Request.Method, redact(u), kind, resp.StatusCode, extra)
}

// redact drops the query (CDN URLs carry signatures) for error messages.
func redact(u *url.URL) string {
	r := *u
	r.RawQuery = ""
	r.User = nil
	return r.String()
}

// clip makes untrusted header text safe to print: printable ASCII, bounded.
func clip(s string) string {
	const max = 200
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < max; i++ {
		if c := s[i]; c >= 0x20 && c < 0x7f {
			b.WriteByte(c)
		} else {
			b.WriteByte('?')
		}
	}
	return b.String()
}

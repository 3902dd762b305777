package hub

import (
	"fmt"
	"os"
	"strings"
)

// DefaultRevision is the branch used when a repo id names none.
const DefaultRevision = "main"

const (
	maxRepoName    = 96   // huggingface_hub's REPO_ID_REGEX limit per part
	maxRevision    = 256  // branch, tag or commit
	maxFilename    = 1024 // a repository file's path
	maxNameSegment = 255  // one path segment: the usual file system limit
)

// ParseRepoID splits "org/name" or "org/name@revision" into the repo id and
// the revision (DefaultRevision when none is given). Each part follows
// huggingface_hub's validate_repo_id, restricted to ASCII: letters, digits,
// '_', '-' and '.', starting and ending with a letter, digit or '_', at most
// 96 characters, with neither "--" nor "..", the name not ending in ".git".
// Unlike huggingface_hub, the organisation is required (so that a bare word
// is never taken for a repo) and also limited to 96 characters.
// The revision (a branch, tag or commit, e.g. "refs/pr/1") must be a safe
// relative path, since it names a file under refs/.
func ParseRepoID(s string) (repo, revision string, err error) {
	repo, revision = s, DefaultRevision
	if i := strings.IndexByte(s, '@'); i >= 0 {
		repo, revision = s[:i], s[i+1:]
		if err := checkRelPath(revision, maxRevision); err != nil {
			return "", "", fmt.Errorf("hub: revision %q: %w: %w", revision, ErrInvalidRepoID, err)
		}
	}
	org, name, ok := strings.Cut(repo, "/")
	if !ok || strings.Contains(name, "/") {
		return "", "", fmt.Errorf("hub: %q: %w: want org/name[@revision]", s, ErrInvalidRepoID)
	}
	if strings.HasSuffix(name, ".git") {
		return "", "", fmt.Errorf("hub: %q: %w: the name cannot end in .git", s, ErrInvalidRepoID)
	}
	for _, part := range []string{org, name} {
		if !validRepoPart(part) {
			return "", "", fmt.Errorf("hub: %q: %w: %q must be 1 to %d of A-Z a-z 0-9 _ - . starting and ending with a letter, digit or _, without -- or ..",
				s, ErrInvalidRepoID, part, maxRepoName)
		}
	}
	return repo, revision, nil
}

// IsRepoID reports whether a command-line model argument names a Hub
// repository rather than a local folder: it parses as org/name[@revision]
// and no file or folder of that name exists (a local path always wins).
func IsRepoID(arg string) bool {
	if _, err := os.Stat(arg); err == nil {
		return false
	}
	_, _, err := ParseRepoID(arg)
	return err == nil
}

func validRepoPart(p string) bool {
	if p == "" || len(p) > maxRepoName || strings.Contains(p, "--") || strings.Contains(p, "..") {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		if !isWordByte(c) && (c != '-' && c != '.' || i == 0 || i == len(p)-1) {
			return false
		}
	}
	return true
}

// checkFilename validates a repository file path that will be joined under
// snapshots/<commit>/ and put into a URL: see checkRelPath.
func checkFilename(name string) error {
	if err := checkRelPath(name, maxFilename); err != nil {
		return fmt.Errorf("hub: file %q: %w: %w", name, ErrBadFilename, err)
	}
	return nil
}

// checkRelPath accepts only a relative, slash-separated path that stays
// inside its folder on every OS: no "..", no empty, "." or over-long
// segment, no backslash, colon (Windows drives and streams), control
// character, or leading/trailing space or dot in a segment (Windows drops
// them).
func checkRelPath(p string, max int) error {
	switch {
	case p == "":
		return fmt.Errorf("empty")
	case len(p) > max:
		return fmt.Errorf("longer than %d bytes", max)
	case strings.Contains(p, ".."):
		return fmt.Errorf(`contains ".."`)
	case strings.HasPrefix(p, "/"):
		return fmt.Errorf("absolute path")
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c < 0x20 || c == 0x7f || c == '\\' || c == ':' {
			return fmt.Errorf("contains %q", string(rune(c)))
		}
	}
	for _, seg := range strings.Split(p, "/") {
		switch {
		case seg == "" || seg == ".":
			return fmt.Errorf("empty or . path segment")
		case len(seg) > maxNameSegment:
			return fmt.Errorf("path segment longer than %d bytes", maxNameSegment)
		case strings.TrimRight(strings.TrimSpace(seg), ".") != seg:
			return fmt.Errorf("path segment %q has leading/trailing space or trailing dot", seg)
		}
	}
	return nil
}

// isCommitHash matches huggingface_hub's REGEX_COMMIT_HASH: a full lowercase
// hex git commit id.
func isCommitHash(s string) bool {
	return len(s) == 40 && isLowerHex(s)
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// repoFolder is huggingface_hub's repo_folder_name for a model repository.
func repoFolder(repo string) string {
	return "models--" + strings.ReplaceAll(repo, "/", "--")
}

package gd

/*
#include "shim.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
	"unsafe"
)

const (
	fileAccessRead      = 1 // FileAccess.READ
	errFileNotFound     = 7 // Error.ERR_FILE_NOT_FOUND
	errFileNoPermission = 10
)

// FS returns a read-only fs.FS over Godot's FileAccess rooted at dir, a
// res://, user:// or absolute path. It is how files inside an exported
// game's .pck are read. Directories list only their files (DirAccess
// get_files_at), not subdirectories, and a listed entry's Info reports size
// 0: Stat the opened file for its size. Each open file is used by one
// goroutine at a time (a mutex guards it), so the FS may be used from worker
// goroutines, as Godot's threaded resource loading uses FileAccess.
func FS(dir string) fs.FS {
	return fileAccessFS{root: strings.TrimSuffix(dir, "/")}
}

type fileAccessFS struct{ root string }

func (f fileAccessFS) path(name string) string {
	if name == "." {
		return f.root
	}
	return f.root + "/" + name
}

// Open opens name (slash-separated, relative to the root).
func (f fileAccessFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	p := f.path(name)
	isDir, err := boolResult(dirAccessDirExistsAbsolute.call(0, p))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if isDir {
		return openDir(p, name)
	}
	exists, err := boolResult(fileAccessFileExists.call(0, p))
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	if !exists {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	ref, err := fileAccessOpen.call(0, p, int64(fileAccessRead))
	if err != nil {
		ref.Destroy()
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	x, err := ref.Go()
	obj, _ := x.(Object)
	if err != nil || obj == 0 {
		ref.Destroy()
		code, cerr := fileAccessGetOpenError.callInt(0)
		if cerr != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: cerr}
		}
		return nil, &fs.PathError{Op: "open", Path: name, Err: openError(code)}
	}
	size, err := fileAccessGetLength.callInt(obj)
	if err != nil {
		ref.Destroy()
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	return &fileAccessFile{ref: &ref, obj: obj, name: name, size: size}, nil
}

func openError(code int64) error {
	switch code {
	case errFileNotFound:
		return fs.ErrNotExist
	case errFileNoPermission:
		return fs.ErrPermission
	}
	return fmt.Errorf("FileAccess.open failed with Godot error %d", code)
}

func boolResult(v Variant, err error) (bool, error) {
	defer v.Destroy()
	if err != nil {
		return false, err
	}
	x, err := v.Go()
	b, _ := x.(bool)
	return b, err
}

// fileAccessFile is one open FileAccess. It implements fs.File, io.ReaderAt
// and io.Seeker.
type fileAccessFile struct {
	mu     sync.Mutex
	ref    *Variant // holds the Ref<FileAccess>; destroying it closes the file
	obj    Object
	name   string
	size   int64
	pos    int64 // position of the next Read
	cursor int64 // where FileAccess itself stands
	closed bool
}

var errClosed = errors.New("file already closed")

func (f *fileAccessFile) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(f.name), size: f.size}, nil
}

func (f *fileAccessFile) Read(p []byte) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.readAt(p, f.pos)
	f.pos += int64(n)
	return n, err
}

// ReadAt reads len(p) bytes from offset off; a short read returns io.EOF.
func (f *fileAccessFile) ReadAt(p []byte, off int64) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n, err := f.readAt(p, off)
	if err == nil && n < len(p) {
		err = io.EOF
	}
	return n, err
}

func (f *fileAccessFile) readAt(p []byte, off int64) (int, error) {
	if f.closed {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: errClosed}
	}
	if off < 0 {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= f.size {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	if int64(len(p)) > f.size-off {
		p = p[:f.size-off]
	}
	if f.cursor != off {
		ret, err := fileAccessSeek.call(f.obj, off)
		ret.Destroy()
		if err != nil {
			return 0, &fs.PathError{Op: "seek", Path: f.name, Err: err}
		}
		f.cursor = off
	}
	n := int(C.loom_gd_file_get_buffer(C.GDExtensionConstObjectPtr(f.obj.ptr()), (*C.uint8_t)(unsafe.Pointer(&p[0])), C.uint64_t(len(p))))
	f.cursor += int64(n)
	if n < len(p) {
		return n, &fs.PathError{Op: "read", Path: f.name, Err: io.ErrUnexpectedEOF}
	}
	return n, nil
}

func (f *fileAccessFile) Seek(offset int64, whence int) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += f.pos
	case io.SeekEnd:
		offset += f.size
	default:
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	if offset < 0 {
		return 0, &fs.PathError{Op: "seek", Path: f.name, Err: fs.ErrInvalid}
	}
	f.pos = offset
	return offset, nil
}

func (f *fileAccessFile) Close() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: errClosed}
	}
	f.closed = true
	f.ref.Destroy()
	return nil
}

type fileInfo struct {
	name string
	size int64
	dir  bool
}

func (i fileInfo) Name() string       { return i.name }
func (i fileInfo) Size() int64        { return i.size }
func (i fileInfo) ModTime() time.Time { return time.Time{} }
func (i fileInfo) IsDir() bool        { return i.dir }
func (i fileInfo) Sys() any           { return nil }
func (i fileInfo) Mode() fs.FileMode {
	if i.dir {
		return fs.ModeDir | 0o555
	}
	return 0o444
}

// dirFile is an open directory: its file names, read once at open.
type dirFile struct {
	name    string
	entries []fs.DirEntry
	next    int
}

func openDir(p, name string) (*dirFile, error) {
	v, err := dirAccessGetFilesAt.call(0, p)
	defer v.Destroy()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	x, err := v.Go()
	if err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	files, _ := x.([]string)
	slices.Sort(files)
	d := &dirFile{name: name}
	for _, f := range files {
		d.entries = append(d.entries, fs.FileInfoToDirEntry(fileInfo{name: f}))
	}
	return d, nil
}

func (d *dirFile) Stat() (fs.FileInfo, error) {
	return fileInfo{name: path.Base(d.name), dir: true}, nil
}

func (d *dirFile) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

func (d *dirFile) Close() error { return nil }

// ReadDir returns the directory's files in name order (fs.ReadDirFile).
func (d *dirFile) ReadDir(n int) ([]fs.DirEntry, error) {
	rest := d.entries[d.next:]
	if n <= 0 {
		d.next = len(d.entries)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	n = min(n, len(rest))
	d.next += n
	return rest[:n], nil
}

package nn

import (
	"errors"
	"fmt"
)

// Sentinel errors, wrapped with context by the functions that return them,
// so that callers can test them with errors.Is.
var (
	// ErrShape reports a tensor whose shape does not fit the layer, or
	// whose data length disagrees with its shape.
	ErrShape = errors.New("nn: bad shape")
	// ErrTooLarge reports a tensor or intermediate buffer of more than
	// MaxElements elements.
	ErrTooLarge = errors.New("nn: tensor too large")
	// ErrConfig reports an invalid layer, loss or optimiser setting.
	ErrConfig = errors.New("nn: invalid configuration")
	// ErrNoForward reports a Backward call on a layer with no Forward to
	// differentiate.
	ErrNoForward = errors.New("nn: Backward called before Forward")
	// ErrAllMasked reports a masked softmax row in which every entry is
	// masked, whose softmax is undefined.
	ErrAllMasked = errors.New("nn: every entry of a row is masked")
	// ErrTarget reports a class target outside [0, classes) that is not
	// the ignore index.
	ErrTarget = errors.New("nn: target out of range")
	// ErrNonFinite reports a gradient norm that is NaN or infinite.
	ErrNonFinite = errors.New("nn: non-finite gradient norm")
)

// MaxElements bounds the number of elements of every tensor and
// intermediate buffer this package allocates (2^28 float32 values, 1 GiB),
// so that a hostile shape is an error, never an integer overflow or an
// allocation the device cannot survive.
const MaxElements = 1 << 28

// Tensor is a dense row-major float32 array: Data holds exactly the product
// of Shape's dimensions, each at least 1. It carries no gradient and no
// graph; layers keep what their backward pass needs themselves.
type Tensor struct {
	Shape []int     // dimensions, outermost first
	Data  []float32 // row-major values
}

// NewTensor returns a zero tensor of the given shape. Every dimension must
// be at least 1 and the element count at most MaxElements.
func NewTensor(shape ...int) (*Tensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}, nil
}

// TensorFrom wraps data, without copying it, in a tensor of the given
// shape; len(data) must equal the shape's element count.
func TensorFrom(data []float32, shape ...int) (*Tensor, error) {
	n, err := numel(shape)
	if err != nil {
		return nil, err
	}
	if len(data) != n {
		return nil, fmt.Errorf("%w: %d values for shape %v", ErrShape, len(data), shape)
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: data}, nil
}

// Len returns the number of elements.
func (t *Tensor) Len() int { return len(t.Data) }

// Clone returns a deep copy.
func (t *Tensor) Clone() *Tensor {
	return &Tensor{Shape: append([]int(nil), t.Shape...), Data: append([]float32(nil), t.Data...)}
}

// Validate checks that t is non-nil, that its dimensions are at least 1
// with at most MaxElements elements in all, and that Data holds exactly
// that many values. Every layer validates its inputs with it, since
// Tensor's fields are open to any caller.
func (t *Tensor) Validate() error {
	if t == nil {
		return fmt.Errorf("%w: nil tensor", ErrShape)
	}
	n, err := numel(t.Shape)
	if err != nil {
		return err
	}
	if len(t.Data) != n {
		return fmt.Errorf("%w: %d values for shape %v", ErrShape, len(t.Data), t.Shape)
	}
	return nil
}

// numel returns the element count of shape after checking that it has at
// least one dimension, that every dimension is at least 1, and that the
// product stays within MaxElements (checked before each multiplication, so
// it cannot overflow).
func numel(shape []int) (int, error) {
	if len(shape) == 0 {
		return 0, fmt.Errorf("%w: empty shape", ErrShape)
	}
	n := 1
	for _, d := range shape {
		if d < 1 {
			return 0, fmt.Errorf("%w: dimension %d in shape %v", ErrShape, d, shape)
		}
		if d > MaxElements/n {
			return 0, fmt.Errorf("%w: shape %v has more than %d elements", ErrTooLarge, shape, MaxElements)
		}
		n *= d
	}
	return n, nil
}

// zeros returns a zero tensor of a shape the caller has already bounded
// with numel.
func zeros(shape ...int) *Tensor {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return &Tensor{Shape: append([]int(nil), shape...), Data: make([]float32, n)}
}

// sameShape reports whether a and b have identical shapes.
func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// checkLast validates x and checks that its last dimension is n; it returns
// the number of rows (the product of the other dimensions).
func checkLast(op string, x *Tensor, n int) (int, error) {
	if err := x.Validate(); err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
	}
	if last := x.Shape[len(x.Shape)-1]; last != n {
		return 0, fmt.Errorf("%s: %w: last dimension %d, want %d (shape %v)", op, ErrShape, last, n, x.Shape)
	}
	return x.Len() / n, nil
}

// checkGrad validates dy and checks that it has the shape of the output y
// the layer's Forward returned.
func checkGrad(op string, dy *Tensor, shape []int) error {
	if err := dy.Validate(); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	if !sameShape(dy.Shape, shape) {
		return fmt.Errorf("%s: %w: gradient shape %v, output shape %v", op, ErrShape, dy.Shape, shape)
	}
	return nil
}

// withLast returns a copy of shape with its last dimension replaced by n,
// checked against MaxElements.
func withLast(op string, shape []int, n int) ([]int, error) {
	s := append([]int(nil), shape...)
	s[len(s)-1] = n
	if _, err := numel(s); err != nil {
		return nil, fmt.Errorf("%s: output: %w", op, err)
	}
	return s, nil
}

package tokenizer

// postProcessor adds special tokens around the ids of one sequence.
type postProcessor interface {
	process(ids []int, addSpecial bool) []int
	// maxID is the largest id the processor adds, or -1.
	maxID() int
}

// templatePiece is one element of a TemplateProcessing "single" template:
// the sequence itself (ids == nil) or the ids of a special token.
type templatePiece struct {
	sequence bool
	ids      []int
}

// templateProcessor is TemplateProcessing's single-sequence template.
type templateProcessor []templatePiece

func (t templateProcessor) process(ids []int, addSpecial bool) []int {
	out := make([]int, 0, len(ids)+4)
	for _, p := range t {
		switch {
		case p.sequence:
			out = append(out, ids...)
		case addSpecial:
			out = append(out, p.ids...)
		}
	}
	return out
}

func (t templateProcessor) maxID() int {
	m := -1
	for _, p := range t {
		for _, id := range p.ids {
			m = max(m, id)
		}
	}
	return m
}

// wrapProcessor is BertProcessing and RobertaProcessing for one sequence:
// cls + ids + sep when special tokens are added.
type wrapProcessor struct{ cls, sep int }

func (w wrapProcessor) process(ids []int, addSpecial bool) []int {
	if !addSpecial {
		return ids
	}
	out := make([]int, 0, len(ids)+2)
	out = append(out, w.cls)
	out = append(out, ids...)
	return append(out, w.sep)
}

func (w wrapProcessor) maxID() int { return max(w.cls, w.sep) }

type seqProcessor []postProcessor

func (s seqProcessor) process(ids []int, addSpecial bool) []int {
	for _, p := range s {
		ids = p.process(ids, addSpecial)
	}
	return ids
}

func (s seqProcessor) maxID() int {
	m := -1
	for _, p := range s {
		m = max(m, p.maxID())
	}
	return m
}

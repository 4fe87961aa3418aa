package resiliencegrpc

import "reflect"

// isNil reports whether v is nil or holds a nil pointer, func, map, slice,
// channel or interface: a typed nil policy or store, which would panic on
// its first call rather than at construction.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Func, reflect.Map, reflect.Slice, reflect.Chan, reflect.Interface, reflect.UnsafePointer:
		return rv.IsNil()
	}
	return false
}

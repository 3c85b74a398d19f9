package unitfile

import (
	"errors"
	"fmt"

	"howett.net/plist"
)

// PlistXML is the XML property list format, the one clawwarden writes.
const PlistXML = plist.XMLFormat

// DecodePlist parses a property list of any format (XML, binary, OpenStep)
// into a dictionary, and returns the format it was in.
func DecodePlist(data []byte) (map[string]any, int, error) {
	var doc map[string]any
	format, err := plist.Unmarshal(data, &doc)
	if err != nil {
		return nil, 0, fmt.Errorf("parse plist: %w", err)
	}
	if doc == nil {
		return nil, 0, errors.New("parse plist: the top level is not a dictionary")
	}
	return doc, format, nil
}

// EncodePlist writes doc in format; text formats are indented by two
// spaces, as launchd's and OpenClaw's own plists are.
func EncodePlist(doc map[string]any, format int) ([]byte, error) {
	if format == plist.BinaryFormat {
		return plist.Marshal(doc, format)
	}
	return plist.MarshalIndent(doc, format, "  ")
}

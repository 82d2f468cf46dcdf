package fedmeta

import (
	"fmt"

	"github.com/beevik/etree"

	"github.com/keyroll/keyroll/internal/xmlsafe"
)

// limits are the xmlsafe limits for metadata documents.
var limits = xmlsafe.Limits{MaxSize: MaxSize, MaxDepth: MaxDepth, MaxElements: MaxElements}

// xmlsafeLabels presents the guard's errors under fedmeta's sentinels.
var xmlsafeLabels = map[error]error{
	xmlsafe.ErrTooLarge:  ErrTooLarge,
	xmlsafe.ErrDTD:       ErrDTD,
	xmlsafe.ErrMalformed: ErrMalformed,
}

// readDoc applies the xmlsafe guard and parses data into a tree whose root
// is a SAML 2.0 EntityDescriptor.
func readDoc(data []byte) (*etree.Document, *etree.Element, error) {
	doc, root, err := xmlsafe.Read(data, limits)
	if err != nil {
		return nil, nil, xmlsafe.Relabel(err, xmlsafeLabels)
	}
	if xmlsafe.Is(root, NSMetadata, "EntitiesDescriptor") {
		return nil, nil, fmt.Errorf("%w: root element is an EntitiesDescriptor: aggregates of several "+
			"entities are not supported, want one EntityDescriptor", ErrMalformed)
	}
	if !xmlsafe.Is(root, NSMetadata, "EntityDescriptor") {
		return nil, nil, fmt.Errorf("%w: root element is %s, want EntityDescriptor in %s", ErrMalformed, xmlsafe.Describe(root), NSMetadata)
	}
	return doc, root, nil
}

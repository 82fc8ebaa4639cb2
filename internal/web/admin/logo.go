package admin

import (
	"bytes"
	"fmt"
	"image"
	_ "image/jpeg" // logos may be JPEG
	_ "image/png"  // or PNG
	"io"
	"mime/multipart"
)

// An uploaded logo is at most maxLogoBytes long and maxLogoSide pixels a side.
const (
	maxLogoBytes = 256 << 10
	maxLogoSide  = 4096
)

// logoProblem is a sentence for the admin about an uploaded logo; it is an
// error so readLogoUpload can return it, but it is written to be shown as is.
type logoProblem string

func (p logoProblem) Error() string { return string(p) }

// readLogoUpload checks an uploaded logo: PNG or JPEG, at most 256 KB and
// 4096 pixels a side. The error is a sentence for the admin.
func readLogoUpload(fh *multipart.FileHeader) (data []byte, ctype string, err error) {
	if fh.Size > maxLogoBytes {
		return nil, "", logoProblem("The logo file is too large; use an image of at most 256 KB.")
	}
	f, err := fh.Open()
	if err != nil {
		return nil, "", logoProblem("The logo could not be read. Try uploading it again.")
	}
	defer f.Close()
	data, err = io.ReadAll(io.LimitReader(f, maxLogoBytes+1))
	if err != nil || len(data) > maxLogoBytes {
		return nil, "", logoProblem("The logo file is too large; use an image of at most 256 KB.")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil || (format != "png" && format != "jpeg") {
		return nil, "", logoProblem("The logo must be a PNG or JPEG image.")
	}
	if cfg.Width < 1 || cfg.Height < 1 || cfg.Width > maxLogoSide || cfg.Height > maxLogoSide {
		return nil, "", logoProblem(fmt.Sprintf("The logo may be at most %d pixels wide and high.", maxLogoSide))
	}
	return data, "image/" + format, nil
}

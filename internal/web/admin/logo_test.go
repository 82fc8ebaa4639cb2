package admin_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"enrollportal/internal/admin"
	"enrollportal/internal/testkit"
)

func postSettingsWithFile(t *testing.T, c *testkit.Client, fields map[string]string, filename string, file []byte) testkit.Response {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	_ = w.WriteField("csrf_token", c.CSRF())
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if file != nil {
		fw, _ := w.CreateFormFile("logo", filename)
		fw.Write(file)
	}
	w.Close()
	return c.Send(http.MethodPost, "/admin/settings", &body, w.FormDataContentType())
}

var logoSrcRe = regexp.MustCompile(`<img src="(/org/logo\?v=[0-9a-f]+)"`)

func TestAdminLogoUpload(t *testing.T) {
	p := testkit.New(t)
	c, _ := p.SignInAs(t, admin.RoleAdministrator)
	fields := map[string]string{"org_name": "Example Org", "activation_hours": "24"}
	img := image.NewRGBA(image.Rect(0, 0, 40, 20))
	img.Set(3, 3, color.RGBA{200, 0, 0, 255})
	var pngBytes bytes.Buffer
	if err := png.Encode(&pngBytes, img); err != nil {
		t.Fatal(err)
	}

	bad := []struct {
		name string
		data []byte
		want string
	}{
		{"logo.svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>`), "must be a PNG or JPEG"},
		{"big.png", append(pngBytes.Bytes(), make([]byte, 300<<10)...), "too large"},
	}
	for _, b := range bad {
		c.Get("/admin/settings")
		r := postSettingsWithFile(t, c, fields, b.name, b.data)
		if r.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(r.Body, b.want) {
			t.Fatalf("%s: %d, want %q", b.name, r.StatusCode, b.want)
		}
	}
	if r := testkit.NewClient(t, p).Get("/org/logo"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("logo before upload: %d", r.StatusCode)
	}

	c.Get("/admin/settings")
	if r := postSettingsWithFile(t, c, fields, "logo.png", pngBytes.Bytes()); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("upload: %d\n%s", r.StatusCode, r.Body)
	}
	// Every page (here the public home page) shows it, and it is served
	// with its type.
	home := testkit.NewClient(t, p).Get("/")
	m := logoSrcRe.FindStringSubmatch(home.Body)
	if m == nil {
		t.Fatalf("home page does not show the logo:\n%s", home.Body)
	}
	logo := testkit.NewClient(t, p).Get(m[1])
	if logo.StatusCode != http.StatusOK || logo.Header.Get("Content-Type") != "image/png" || logo.Body != pngBytes.String() {
		t.Fatalf("logo: %d %s", logo.StatusCode, logo.Header.Get("Content-Type"))
	}

	c.Get("/admin/settings")
	fields["remove_logo"] = "true"
	if r := postSettingsWithFile(t, c, fields, "", nil); r.StatusCode != http.StatusSeeOther {
		t.Fatalf("remove: %d", r.StatusCode)
	}
	if r := testkit.NewClient(t, p).Get("/org/logo"); r.StatusCode != http.StatusNotFound {
		t.Fatalf("logo after removal: %d", r.StatusCode)
	}
	if home := testkit.NewClient(t, p).Get("/"); logoSrcRe.MatchString(home.Body) {
		t.Fatal("home page still shows the removed logo")
	}
}

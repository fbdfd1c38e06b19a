#include "test.h"

#include "berth/manifest.h"
#include "util/error.h"
#include "util/xalloc.h"

/* JSON is written with ' for " to stay readable; q() swaps them back. */
#define HA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define HB "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define HC "cb8379ac2098aa165029e3938a51da0bcecfc008fd6795f401178647f96c5b34"
#define DA "'sha256:" HA "'"
#define DB "'sha256:" HB "'"
#define DC "'sha256:" HC "'"

#define OCI_M "'application/vnd.oci.image.manifest.v1+json'"
#define OCI_I "'application/vnd.oci.image.index.v1+json'"
#define CFG                                                                    \
	"{'mediaType':'application/vnd.oci.image.config.v1+json','digest':" DA \
	",'size':7}"
#define L(d, s)                                                                \
	"{'mediaType':'application/"                                           \
	"vnd.oci.image.layer.v1.tar+gzip','digest':" d ",'size':" #s "}"
#define PLAT(os, arch, extra)                                                  \
	"'platform':{'os':'" os "','architecture':'" arch "'" extra "}"
#define E(d, plat) "{'mediaType':" OCI_M ",'digest':" d ",'size':100," plat "}"

static char *
q(const char *s)
{
	char *r = xstrdup(s);

	for (char *c = r; *c; c++)
		if (*c == '\'')
			*c = '"';
	return r;
}

static berth_manifest *
parse_ok(const char *ct, const char *json, const char *label)
{
	char *body = q(json);
	berth_manifest *m = NULL;
	berth_error *err = NULL;

	CHECK(berth_manifest_parse(&m, ct, body, strlen(body), &err) == 0,
	      "%s: %s", label, err ? err->msg : "");
	berth_error_free(err);
	free(body);
	return m;
}

static void
parse_bad(const char *ct, const char *json, int code, const char *msg)
{
	char *body = q(json);
	berth_manifest *m = NULL;
	berth_error *err = NULL;
	int rc = berth_manifest_parse(&m, ct, body, strlen(body), &err);

	CHECK(rc == code, "'%s': rc %d, want %d (%s)", msg, rc, code,
	      err ? err->msg : "");
	CHECK(m == NULL, "'%s': no manifest on failure", msg);
	CHECK(err && err->code == code && strstr(err->msg, msg),
	      "message '%s', want '%s'", err ? err->msg : "(none)", msg);
	berth_error_free(err);
	free(body);
}

TEST(oci_manifest)
{
	berth_manifest *m;

	m = parse_ok(
		NULL,
		"{'schemaVersion':2,'mediaType':" OCI_M ",'config':" CFG
		",'layers':[" L(
			DB, 10) ",{'mediaType':'application/"
				"vnd.oci.image.layer.v1.tar','digest':" DC
				",'size':0,"
				"'urls':['https://a.example/x','https://"
				"b.example/y'],"
				"'annotations':{'k':'v','n':'2'}}],"
				"'artifactType':'application/vnd.example.sbom',"
				"'subject':{'mediaType':" OCI_M ",'digest':" DA
				",'size':500}}",
		"oci manifest");
	if (m == NULL)
		return;
	CHECK(m->kind == BERTH_MANIFEST_IMAGE, "kind");
	CHECK_STR(m->media_type, BERTH_MT_OCI_MANIFEST);
	CHECK_STR(m->artifact_type, "application/vnd.example.sbom");
	CHECK_STR(m->config.media_type, BERTH_MT_OCI_CONFIG);
	CHECK_STR(m->config.digest.str, "sha256:" HA);
	CHECK(m->config.size == 7, "config size");
	CHECK(m->n_layers == 2, "layers %zu", m->n_layers);
	CHECK_STR(m->layers[0].media_type, BERTH_MT_OCI_LAYER_GZIP);
	CHECK_STR(m->layers[0].digest.str, "sha256:" HB);
	CHECK(m->layers[0].size == 10, "size");
	CHECK(m->layers[0].urls == NULL, "no urls");
	CHECK(m->layers[0].annotations_json == NULL, "no annotations");
	CHECK(m->layers[1].size == 0, "zero size is fine");
	CHECK(m->layers[1].urls && m->layers[1].urls[1] &&
		      !m->layers[1].urls[2],
	      "two urls");
	CHECK_STR(m->layers[1].urls ? m->layers[1].urls[1] : NULL,
		  "https://b.example/y");
	CHECK_STR(m->layers[1].annotations_json, "{\"k\":\"v\",\"n\":\"2\"}");
	CHECK(m->has_subject, "subject");
	CHECK(m->subject.size == 500, "subject size");
	CHECK(m->n_manifests == 0 && m->manifests == NULL, "no entries");

	/* deep copy survives the manifest */
	{
		berth_descriptor c;

		berth_descriptor_copy(&c, &m->layers[1]);
		berth_manifest_free(m);
		CHECK_STR(c.urls[0], "https://a.example/x");
		CHECK_STR(c.annotations_json, "{\"k\":\"v\",\"n\":\"2\"}");
		CHECK_STR(c.digest.str, "sha256:" HC);
		berth_descriptor_release(&c);
		CHECK(c.media_type == NULL, "released");
	}
	berth_manifest_free(NULL);
}

TEST(media_type_decision)
{
	const char *img = "{'schemaVersion':2,'config':" CFG ",'layers':[]}";
	const char *idx = "{'schemaVersion':2,'manifests':[]}";
	berth_manifest *m;

	m = parse_ok(BERTH_MT_OCI_MANIFEST, img, "from content type");
	CHECK(m && m->kind == BERTH_MANIFEST_IMAGE, "kind");
	CHECK_STR(m ? m->media_type : NULL, BERTH_MT_OCI_MANIFEST);
	berth_manifest_free(m);

	m = parse_ok(
		"Application/Vnd.Oci.Image.Manifest.V1+json ; charset=utf-8",
		img, "content type with parameters");
	CHECK(m && m->kind == BERTH_MANIFEST_IMAGE, "kind");
	berth_manifest_free(m);

	m = parse_ok(NULL, img, "inferred image");
	CHECK_STR(m ? m->media_type : NULL, BERTH_MT_OCI_MANIFEST);
	CHECK(m && m->n_layers == 0, "no layers");
	berth_manifest_free(m);

	m = parse_ok("application/json", idx, "inferred index");
	CHECK(m && m->kind == BERTH_MANIFEST_INDEX, "kind");
	CHECK_STR(m ? m->media_type : NULL, BERTH_MT_OCI_INDEX);
	CHECK(m && m->n_manifests == 0, "empty index");
	berth_manifest_free(m);

	m = parse_ok(BERTH_MT_OCI_INDEX, idx, "index from content type");
	CHECK(m && m->kind == BERTH_MANIFEST_INDEX, "kind");
	berth_manifest_free(m);

	/* the body wins over an unspecific content type */
	m = parse_ok("application/octet-stream",
		     "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[]}",
		     "body media type");
	CHECK(m && m->kind == BERTH_MANIFEST_INDEX, "kind");
	berth_manifest_free(m);

	parse_bad(BERTH_MT_DOCKER_V2,
		  "{'schemaVersion':2,'mediaType':" OCI_M ",'config':" CFG
		  ",'layers':[]}",
		  BERTH_EPROTO,
		  "manifest declares media type "
		  "'application/vnd.oci.image.manifest.v1+json' but was served "
		  "as 'application/vnd.docker.distribution.manifest.v2+json'");
	parse_bad(NULL, "{'schemaVersion':2,'manifests':[],'layers':[]}",
		  BERTH_EPROTO, "both 'manifests' and 'config'/'layers'");
	parse_bad(NULL, "{'schemaVersion':2}", BERTH_EPROTO,
		  "neither 'manifests' nor 'config'/'layers'");
	parse_bad(NULL, "{'schemaVersion':2,'mediaType':7,'manifests':[]}",
		  BERTH_EPROTO, "manifest has an invalid 'mediaType'");
}

TEST(docker)
{
	berth_manifest *m;

	m = parse_ok(BERTH_MT_DOCKER_V2,
		     "{'schemaVersion':2,'mediaType':'" BERTH_MT_DOCKER_V2
		     "','config':{'mediaType':'" BERTH_MT_DOCKER_CONFIG
		     "','size':1469,'digest':" DA
		     "},'layers':[{'mediaType':'" BERTH_MT_DOCKER_LAYER
		     "','size':2811478,'digest':" DB
		     "},{'mediaType':'" BERTH_MT_DOCKER_FOREIGN
		     "','size':5,'digest':" DC
		     ",'urls':['https://mcr.example/l']}]}",
		     "docker v2");
	CHECK(m && m->kind == BERTH_MANIFEST_IMAGE, "kind");
	CHECK_STR(m ? m->media_type : NULL, BERTH_MT_DOCKER_V2);
	CHECK(m && m->n_layers == 2 && m->layers[0].size == 2811478, "layers");
	CHECK_STR(m ? m->layers[1].urls[0] : NULL, "https://mcr.example/l");
	CHECK(m && !m->has_subject, "no subject");
	berth_manifest_free(m);

	m = parse_ok(NULL,
		     "{'schemaVersion':2,'mediaType':'" BERTH_MT_DOCKER_LIST
		     "','manifests':[{'mediaType':'" BERTH_MT_DOCKER_V2
		     "','size':528,'digest':" DA ",'platform':{'architecture':"
		     "'amd64','os':'linux'}},{'mediaType':'" BERTH_MT_DOCKER_V2
		     "','size':528,'digest':" DB ",'platform':{'architecture':"
		     "'arm','os':'linux','variant':'v6'}},{'mediaType':"
		     "'" BERTH_MT_DOCKER_V2 "','size':528,'digest':" DC
		     ",'platform':{'architecture':'aarch64','os':'Linux',"
		     "'os.version':'x','features':['sse4']}}]}",
		     "docker list");
	if (m == NULL)
		return;
	CHECK(m->kind == BERTH_MANIFEST_INDEX, "kind");
	CHECK(m->n_manifests == 3, "entries");
	CHECK(m->manifests[0].has_platform, "platform");
	CHECK_STR(m->manifests[0].platform.arch, "amd64");
	CHECK_STR(m->manifests[1].platform.variant, "v6");
	CHECK_STR(m->manifests[2].platform.os, "linux");
	CHECK_STR(m->manifests[2].platform.arch, "arm64");
	CHECK_STR(m->manifests[2].platform.variant, "v8");
	berth_manifest_free(m);
}

TEST(schema)
{
	char *body;
	berth_manifest *m = NULL;
	berth_error *err = NULL;
	const char *s1 = "{'schemaVersion':1,'name':'x','tag':'latest',"
			 "'fsLayers':[],'history':[]}";

	body = q(s1);
	CHECK(berth_manifest_parse(&m, NULL, body, strlen(body), &err) ==
		      BERTH_EUNSUPPORTED,
	      "schema 1");
	CHECK_STR(err ? err->msg : NULL,
		  "manifest is Docker schema 1, which berth does not support");
	CHECK(err && err->hint && strstr(err->hint, "re-push"), "hint '%s'",
	      err && err->hint ? err->hint : "");
	berth_error_freep(&err);
	free(body);

	parse_bad(BERTH_MT_DOCKER_V1_SIGNED, s1, BERTH_EUNSUPPORTED,
		  "Docker schema 1");
	parse_bad(BERTH_MT_DOCKER_V1, "{'schemaVersion':2,'manifests':[]}",
		  BERTH_EUNSUPPORTED, "Docker schema 1");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':'" BERTH_MT_DOCKER_V1 "'}",
		  BERTH_EUNSUPPORTED, "Docker schema 1");
	parse_bad(
		NULL,
		"{'schemaVersion':2,'mediaType':'application/vnd.example+json',"
		"'config':" CFG ",'layers':[]}",
		BERTH_EUNSUPPORTED,
		"manifest media type 'application/vnd.example+json' is not "
		"supported");
	parse_bad(NULL, "{'mediaType':" OCI_I ",'manifests':[]}", BERTH_EPROTO,
		  "manifest has no 'schemaVersion'");
	parse_bad(NULL, "{'schemaVersion':'2','manifests':[]}", BERTH_EPROTO,
		  "invalid 'schemaVersion'");
	parse_bad(NULL, "{'schemaVersion':3,'manifests':[]}",
		  BERTH_EUNSUPPORTED, "schemaVersion 3 is not supported");
}

TEST(invalid)
{
#define IMG(cfg, layers)                                                       \
	"{'schemaVersion':2,'mediaType':" OCI_M ",'config':" cfg               \
	",'layers':[" layers "]}"
	parse_bad(NULL, "{'schemaVersion':2,'mediaType':" OCI_M ",'layers':[]}",
		  BERTH_EPROTO, "manifest has no 'config'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_M ",'config':" CFG "}",
		  BERTH_EPROTO, "manifest has no 'layers'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_M ",'config':" CFG
		  ",'layers':{}}",
		  BERTH_EPROTO,
		  "manifest has an invalid 'layers' (not an array)");
	parse_bad(NULL, "{'schemaVersion':2,'mediaType':" OCI_I "}",
		  BERTH_EPROTO, "manifest has no 'manifests'");
	parse_bad(NULL, IMG("7", ""), BERTH_EPROTO,
		  "config is not a JSON object");
	parse_bad(NULL, IMG("{'mediaType':'x','digest':" DA "}", ""),
		  BERTH_EPROTO, "config has no 'size'");
	parse_bad(NULL, IMG("{'digest':" DA ",'size':1}", ""), BERTH_EPROTO,
		  "config has no 'mediaType'");
	parse_bad(NULL, IMG(CFG, L(DB, 1) ",{'mediaType':'x','size':1}"),
		  BERTH_EPROTO, "layer 2 has no 'digest'");
	parse_bad(NULL, IMG(CFG, "{'digest':" DB ",'size':1}"), BERTH_EPROTO,
		  "layer 1 has no 'mediaType'");
	parse_bad(NULL, IMG(CFG, "{'mediaType':'','digest':" DB ",'size':1}"),
		  BERTH_EPROTO, "layer 1 has an invalid 'mediaType'");
	parse_bad(NULL,
		  IMG(CFG, L(DB, 1) "," L(
				   DB, 2) ",{'mediaType':'x','digest':" DB "}"),
		  BERTH_EPROTO, "layer 3 has no 'size'");
	parse_bad(NULL, IMG(CFG, L("'sha256:xyz'", 1)), BERTH_EPROTO,
		  "layer 1: invalid digest 'sha256:xyz'");
	parse_bad(NULL, IMG(CFG, L("'md5:" HA "'", 1)), BERTH_EPROTO,
		  "layer 1: invalid digest 'md5:");
	parse_bad(NULL, IMG(CFG, L("12", 1)), BERTH_EPROTO,
		  "layer 1 has an invalid 'digest' (not a string)");
	parse_bad(NULL, IMG(CFG, L(DB, -1)), BERTH_EPROTO,
		  "layer 1 has a negative 'size' (-1)");
	parse_bad(NULL, IMG(CFG, L(DB, 1.5)), BERTH_EPROTO,
		  "layer 1 has an invalid 'size' (not an integer)");
	parse_bad(NULL, IMG(CFG, L(DB, '1')), BERTH_EPROTO,
		  "layer 1 has an invalid 'size'");
	parse_bad(NULL, IMG(CFG, "7"), BERTH_EPROTO,
		  "layer 1 is not a JSON object");
	parse_bad(NULL,
		  IMG(CFG,
		      "{'mediaType':'x','digest':" DB ",'size':1,'urls':'u'}"),
		  BERTH_EPROTO, "layer 1 has an invalid 'urls'");
	parse_bad(NULL,
		  IMG(CFG,
		      "{'mediaType':'x','digest':" DB ",'size':1,'urls':[1]}"),
		  BERTH_EPROTO, "layer 1 has an invalid 'urls' entry");
	parse_bad(NULL,
		  IMG(CFG, "{'mediaType':'x','digest':" DB
			   ",'size':1,'annotations':[]}"),
		  BERTH_EPROTO, "layer 1 has an invalid 'annotations'");
	parse_bad(NULL,
		  IMG(CFG, "{'mediaType':'x','digest':" DB
			   ",'size':1,'artifactType':1}"),
		  BERTH_EPROTO, "layer 1 has an invalid 'artifactType'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_M ",'config':" CFG
		  ",'layers':[],'subject':{'mediaType':'x','size':1}}",
		  BERTH_EPROTO, "subject has no 'digest'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':["
		  "{'mediaType':'x','size':1}]}",
		  BERTH_EPROTO, "manifest 1 has no 'digest'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[" E(
			  DA, PLAT("linux", "amd64",
				   "")) ","
					"{'mediaType':'x','digest':" DB
					",'size':1,'platform':{'architecture':'"
					"arm64'}}]}",
		  BERTH_EPROTO, "manifest 2 platform has no 'os'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':["
		  "{'mediaType':'x','digest':" DB
		  ",'size':1,'platform':{'os':'linux'}}]}",
		  BERTH_EPROTO, "manifest 1 platform has no 'architecture'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[" E(
			  DA, PLAT("linux",
				   "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				   "")) "]}",
		  BERTH_EPROTO,
		  "manifest 1 platform has an invalid 'architecture'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[" E(
			  DA, PLAT("linux", "arm", ",'variant':7")) "]}",
		  BERTH_EPROTO, "manifest 1 platform has an invalid 'variant'");
	parse_bad(NULL,
		  "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':["
		  "{'mediaType':'x','digest':" DB
		  ",'size':1,'platform':'linux/amd64'}]}",
		  BERTH_EPROTO, "manifest 1 has an invalid 'platform'");
#undef IMG
}

TEST(json)
{
	char *big;
	berth_manifest *m = NULL;
	berth_error *err = NULL;

	parse_bad(NULL, "{'schemaVersion':2,'schemaVersion':2,'manifests':[]}",
		  BERTH_EPROTO, "manifest is not valid JSON: duplicate");
	parse_bad(NULL,
		  "{'schemaVersion':2,'config':" CFG ",'layers':[{'mediaType':"
		  "'x','digest':" DA ",'size':1,'size':2}]}",
		  BERTH_EPROTO, "duplicate");
	parse_bad(NULL, "{'schemaVersion':2,", BERTH_EPROTO,
		  "manifest is not valid JSON");
	parse_bad(NULL, "", BERTH_EPROTO, "manifest is not valid JSON");
	parse_bad(NULL, "[]", BERTH_EPROTO, "manifest is not a JSON object");
	parse_bad(NULL, "{'schemaVersion':2,'manifests':[]} x", BERTH_EPROTO,
		  "not valid JSON");
	/* NUL bytes inside strings are refused */
	{
		static const char nul[] = "{\"schemaVersion\":2,\"mediaType\":"
					  "\"a\\u0000b\",\"manifests\":[]}";

		CHECK(berth_manifest_parse(&m, NULL, nul, sizeof(nul) - 1,
					   &err) == BERTH_EPROTO,
		      "NUL in a string");
		berth_error_freep(&err);
	}

	big = xmalloc(BERTH_MANIFEST_MAX + 1);
	memset(big, ' ', BERTH_MANIFEST_MAX + 1);
	CHECK(berth_manifest_parse(&m, NULL, big, BERTH_MANIFEST_MAX + 1,
				   &err) == BERTH_ETOOBIG,
	      "oversize");
	CHECK(err && err->code == BERTH_ETOOBIG &&
		      strstr(err->msg, "over the limit"),
	      "oversize message '%s'", err ? err->msg : "");
	CHECK(m == NULL, "no manifest");
	berth_error_freep(&err);
	/* exactly at the limit is parsed (and here fails only as JSON) */
	CHECK(berth_manifest_parse(&m, NULL, big, BERTH_MANIFEST_MAX, &err) ==
		      BERTH_EPROTO,
	      "at the limit");
	berth_error_freep(&err);
	free(big);
}

/* An index as buildx writes it, with attestations. */
static const char
	*index_json =
		"{'schemaVersion':2,'mediaType':" OCI_I
		",'manifests':[" E(DA, PLAT("linux", "amd64", "")) "," E(DB, PLAT("linux", "arm", ",'variant':'v6'")) "," E(DC, PLAT("linux", "arm", ",'variant':'v7'")) "," E(
			"'sha256:"
			"111111111111111111111111111111111111111111111111111111"
			"1111111111'",
			PLAT("linux", "arm64",
			     ",'variant':'v8'")) "," E("'sha256:"
						       "22222222222222222222222"
						       "22222222222222222222222"
						       "222222222222222222'",
						       PLAT("unknown",
							    "unknown",
							    "") ",'"
								"annotations"
								"':{"
								"'vnd."
								"docker."
								"reference."
								"digest':" DA
								","
								"'vnd."
								"docker."
								"reference."
								"type':'"
								"attestation"
								"-manifest'"
								"}") "," E("'sh"
									   "a25"
									   "6:"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "333"
									   "3'",
									   PLAT("linux",
										"riscv64",
										"") ",'annotations':{"
										    "'vnd.docker.reference.type':'attestation-manifest'}") "," E("'sha256:4444444444444444444444444444444444444444444444444444444444444444'",
																		 PLAT("linux",
																		      "amd64",
																		      "")) ","
																			   "{'mediaType':" OCI_M
																			   ",'digest':" DA
																			   ",'size':5}"
																			   "]}";

static const char *
sel(const berth_manifest *m, const char *platform, berth_error **err)
{
	berth_platform p;
	const berth_descriptor *d = NULL;

	if (berth_platform_parse(&p, platform, err) < 0)
		return NULL;
	if (berth_manifest_select(&d, m, &p, err) < 0)
		return NULL;
	return d->digest.str;
}

TEST(select)
{
	berth_manifest *m = parse_ok(NULL, index_json, "buildx index"), *img;
	berth_error *err = NULL;

	if (m == NULL)
		return;
	CHECK(m->n_manifests == 8, "entries %zu", m->n_manifests);
	CHECK(!m->manifests[7].has_platform, "entry without platform");
	CHECK_STR(sel(m, "linux/amd64", &err), "sha256:" HA);
	CHECK_STR(sel(m, "linux/x86_64", &err), "sha256:" HA);
	CHECK_STR(sel(m, "linux/arm64", &err),
		  "sha256:"
		  "111111111111111111111111111111111111111111111111111111111111"
		  "1111");
	CHECK_STR(sel(m, "linux/aarch64/v8", &err),
		  "sha256:"
		  "111111111111111111111111111111111111111111111111111111111111"
		  "1111");
	CHECK_STR(sel(m, "linux/arm/v7", &err), "sha256:" HC);
	CHECK_STR(sel(m, "linux/arm", &err), "sha256:" HC);
	CHECK_STR(sel(m, "linux/armel", &err), "sha256:" HB);
	CHECK_STR(sel(m, "linux/arm/v8", &err), "sha256:" HC);
	CHECK_STR(sel(m, "linux/amd64/v3", &err), "sha256:" HA);
	CHECK(err == NULL, "no error: %s", err ? err->msg : "");

	CHECK(sel(m, "linux/riscv64", &err) == NULL, "attestation skipped");
	CHECK(err && err->code == BERTH_EPLATFORM, "EPLATFORM");
	CHECK_STR(err ? err->msg : NULL,
		  "no manifest for platform 'linux/riscv64'; the image has "
		  "linux/amd64, linux/arm/v6, linux/arm/v7, linux/arm64/v8");
	CHECK_STR(err ? err->hint : NULL, "choose one with --platform");
	berth_error_freep(&err);

	CHECK(sel(m, "linux/arm/v5", &err) == NULL, "v5 cannot run v6");
	CHECK(err && err->code == BERTH_EPLATFORM, "EPLATFORM");
	berth_error_freep(&err);
	CHECK(sel(m, "unknown/unknown", &err) == NULL, "unknown skipped");
	berth_error_freep(&err);
	CHECK(sel(m, "windows/amd64", &err) == NULL, "windows");
	berth_error_freep(&err);
	berth_manifest_free(m);

	/* amd64 without a variant: exact entry over v2/v3, else the lowest */
	m = parse_ok(
		NULL,
		"{'schemaVersion':2,'mediaType':" OCI_I
		",'manifests':[" E(DA, PLAT("linux", "amd64", ",'variant':'v3'")) "," E(
			DB, PLAT("linux", "amd64",
				 ",'variant':'v2'")) "," E(DC, PLAT("linux",
								    "amd64",
								    "")) "]}",
		"amd64 variants");
	CHECK_STR(m ? sel(m, "linux/amd64", &err) : NULL, "sha256:" HC);
	CHECK_STR(m ? sel(m, "linux/amd64/v3", &err) : NULL, "sha256:" HA);
	CHECK_STR(m ? sel(m, "linux/amd64/v2", &err) : NULL, "sha256:" HB);
	berth_manifest_free(m);
	m = parse_ok(
		NULL,
		"{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[" E(
			DA,
			PLAT("linux", "amd64",
			     ",'variant':'v3'")) "," E(DB,
						       PLAT("linux", "amd64",
							    ",'variant':'"
							    "v2'")) "]}",
		"amd64 v2/v3 only");
	CHECK_STR(m ? sel(m, "linux/amd64", &err) : NULL, "sha256:" HB);
	berth_manifest_free(m);

	m = parse_ok(NULL, "{'schemaVersion':2,'manifests':[]}", "empty index");
	CHECK(m && sel(m, "linux/amd64", &err) == NULL, "empty");
	CHECK_STR(err ? err->msg : NULL,
		  "no manifest for platform 'linux/amd64'; the index lists no "
		  "platforms");
	berth_error_freep(&err);
	berth_manifest_free(m);

	img = parse_ok(NULL, "{'schemaVersion':2,'config':" CFG ",'layers':[]}",
		       "image");
	CHECK(img && sel(img, "linux/amd64", &err) == NULL, "not an index");
	CHECK(err != NULL, "error for a non-index");
	berth_error_freep(&err);
	berth_manifest_free(img);
}

/* A registry's platform strings may hold control characters; the error
 * that lists them is still one line. */
TEST(select_message_one_line)
{
	berth_manifest *m =
		parse_ok(NULL,
			 "{'schemaVersion':2,'manifests':[{'mediaType':" OCI_M
			 ",'digest':" DA ",'size':5,'platform':"
			 "{'os':'linux','architecture':'arm\\n64'}}]}",
			 "index with a newline in a platform");
	berth_error *err = NULL;

	CHECK(m && sel(m, "linux/amd64", &err) == NULL, "no match");
	CHECK(err && err->code == BERTH_EPLATFORM, "EPLATFORM");
	CHECK(err && strchr(err->msg, '\n') == NULL &&
		      strstr(err->msg, "arm 64"),
	      "one line: %s", err ? err->msg : "");
	berth_error_free(err);
	berth_manifest_free(m);
}

/* Nor can they reach the terminal as escape sequences: an OSC that sets
 * the title, 8-bit CSI raw and UTF-8-encoded. */
TEST(select_message_no_escapes)
{
	berth_manifest *m =
		parse_ok(NULL,
			 "{'schemaVersion':2,'manifests':[{'mediaType':" OCI_M
			 ",'digest':" DA ",'size':5,'platform':"
			 "{'os':'linux\\u001b]0;pwned\\u0007','architecture':"
			 "'arm\\u009b2J'}}]}",
			 "index with escapes in a platform");
	berth_error *err = NULL;

	CHECK(m && sel(m, "linux/amd64", &err) == NULL, "no match");
	CHECK(err && strchr(err->msg, 0x1b) == NULL &&
		      strchr(err->msg, 0x07) == NULL &&
		      strstr(err->msg, "\xc2\x9b") == NULL &&
		      strstr(err->msg, "linux?]0;pwned?/arm??2j"),
	      "escapes replaced: %s", err ? err->msg : "");
	berth_error_free(err);
	berth_manifest_free(m);
}

/* Without an error object the code alone still comes back right. */
TEST(null_err)
{
	static const struct {
		const char *ct, *json;
		int code;
	} c[] = {
		{NULL, "{'schemaVersion':1}", BERTH_EUNSUPPORTED},
		{NULL, "{'schemaVersion':2,'mediaType':'x/y','manifests':[]}",
		 BERTH_EUNSUPPORTED},
		{NULL, "{'schemaVersion':3,'manifests':[]}",
		 BERTH_EUNSUPPORTED},
		{NULL,
		 "{'schemaVersion':2,'config':" CFG
		 ",'layers':[" L("'sha256:x'", 1) "]}",
		 BERTH_EPROTO},
		{NULL, "{'schemaVersion':2,'config':" CFG ",'layers':[{}]}",
		 BERTH_EPROTO},
		{NULL, "{'schemaVersion':2,'config':" CFG "}", BERTH_EPROTO},
		{BERTH_MT_DOCKER_V2,
		 "{'schemaVersion':2,'mediaType':" OCI_I ",'manifests':[]}",
		 BERTH_EPROTO},
		{NULL, "{", BERTH_EPROTO},
	};
	berth_manifest *m = NULL;
	berth_platform p;
	const berth_descriptor *d = NULL;

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		char *body = q(c[i].json);
		int rc = berth_manifest_parse(&m, c[i].ct, body, strlen(body),
					      NULL);

		CHECK(rc == c[i].code, "case %zu: rc %d, want %d", i, rc,
		      c[i].code);
		free(body);
	}
	m = parse_ok(NULL, "{'schemaVersion':2,'manifests':[]}", "empty");
	berth_platform_parse(&p, "linux/amd64", NULL);
	CHECK(m && berth_manifest_select(&d, m, &p, NULL) == BERTH_EPLATFORM,
	      "select with NULL err");
	berth_manifest_free(m);
}

TEST_MAIN("test_manifest")

// A C++ program using libberth: the same as example.c, with the library's
// handles owned by std::unique_ptr. Build it against an installed libberth
// with
//
//	c++ example.cpp $(pkg-config --cflags --libs berth) -o example
//
// Usage: example STORE REFERENCE
#include <iostream>
#include <memory>
#include <string>

#include <berth/pull.h>
#include <berth/store.h>

namespace
{

struct store_free {
	void operator()(berth_store *s) const
	{
		berth_store_free(s);
	}
};
struct ref_free {
	void operator()(berth_ref *r) const
	{
		berth_ref_free(r);
	}
};
struct error_free {
	void operator()(berth_error *e) const
	{
		berth_error_free(e);
	}
};
using error_ptr = std::unique_ptr<berth_error, error_free>;

// The library never prints: the program reports the error and its hint.
int
report(berth_error *raw)
{
	error_ptr err(raw);
	std::cerr << "example: " << err->msg << " ("
		  << berth_code_name(err->code) << ")\n";
	if (err->hint)
		std::cerr << "hint: " << err->hint << "\n";
	return 1;
}

} // namespace

int
main(int argc, char **argv)
{
	if (argc != 3) {
		std::cerr << "usage: example STORE REFERENCE\n";
		return 2;
	}
	berth_error *err = nullptr;

	berth_store *s = nullptr;
	if (berth_store_open(&s, argv[1], 0, &err) < 0)
		return report(err);
	std::unique_ptr<berth_store, store_free> store(s);

	berth_ref *r = nullptr;
	if (berth_ref_parse(&r, argv[2], &err) < 0)
		return report(err);
	std::unique_ptr<berth_ref, ref_free> ref(r);

	berth_registry_opts ro = BERTH_REGISTRY_OPTS_INIT;
	berth_pull_opts po = BERTH_PULL_OPTS_INIT;
	unsigned layers = 0;
	po.registry = &ro;
	po.ud = &layers;
	po.progress = [](void *ud, const berth_pull_event *ev) {
		if (ev->kind == BERTH_PULL_LAYER_DONE)
			++*static_cast<unsigned *>(ud);
	};
	berth_pull_result res = BERTH_PULL_RESULT_INIT;
	if (berth_pull(&res, store.get(), ref.get(), &po, &err) < 0)
		return report(err);
	std::cout << "pulled " << res.name << " " << res.digest.str << " ("
		  << layers << " layers downloaded)\n";
	berth_pull_result_release(&res);

	berth_image *images = nullptr;
	size_t n = 0;
	if (berth_store_list(&images, &n, store.get(), &err) < 0)
		return report(err);
	for (size_t i = 0; i < n; i++)
		std::cout << "image " << images[i].name << " "
			  << std::string(images[i].desc.digest.str) << "\n";
	berth_images_free(images, n);
	return 0;
}

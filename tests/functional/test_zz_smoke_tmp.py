
def test_smoke(api, library_repo):
    c = api.create_customer(external_id="x")
    print(c)
    p = api.add_package(library_repo.url)
    print(p)
    print(api.get("/packages/acme/library").json())
    print(api.get("/nope").json(), api.client.get("/nope").json())

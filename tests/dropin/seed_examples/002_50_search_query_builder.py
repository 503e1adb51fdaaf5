# seed: 002_66819ad5547d5568.txt lines 881-889
# clarifai 2.x API reference (ClarifaiApp): SearchQueryBuilder
# Below the line: the seed's code, verbatim. tests/dropin/test_seed_examples.py runs it.
# ---
>>> qb = SearchQueryBuilder()
>>> qb.add_term(term1)
>>> qb.add_term(term2)
>>> app.inputs.search(qb)
>>> # for search over translated output concepts
>>> qb = SearchQueryBuilder(language='zh')
>>> qb.add_term(term1)
>>> qb.add_term(term2)
>>> app.inputs.search(qb)

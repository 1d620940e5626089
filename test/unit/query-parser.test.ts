import { MAX_QUERY_PARAMETERS, strictQueryParser } from '../../src/http/query-parser';

describe('strictQueryParser', () => {
  it('parses like node:querystring, repeated keys as arrays', () => {
    expect({ ...strictQueryParser('page=2&limit=30&a=1&a=2') }).toEqual({
      page: '2',
      limit: '30',
      a: ['1', '2'],
    });
  });

  it('gives an empty query for a URL without one', () => {
    expect({ ...strictQueryParser(null) }).toEqual({});
    expect({ ...strictQueryParser('') }).toEqual({});
  });

  it(`reads ${MAX_QUERY_PARAMETERS} parameters and none of a query with one more`, () => {
    const query = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&');

    expect(Object.keys(strictQueryParser(query(MAX_QUERY_PARAMETERS)))).toHaveLength(
      MAX_QUERY_PARAMETERS,
    );
    const oversized = strictQueryParser(query(MAX_QUERY_PARAMETERS + 1));
    expect(Object.keys(oversized)).toEqual([]);
    expect(strictQueryParser(query(MAX_QUERY_PARAMETERS + 1))).toBe(oversized);
  });
});

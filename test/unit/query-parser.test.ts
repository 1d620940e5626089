import { MAX_QUERY_PARAMETERS, strictQueryParser } from '../../src/http/query-parser';
import { AppError } from '../../src/lib/errors';

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

  it(`accepts ${MAX_QUERY_PARAMETERS} parameters and refuses one more with a 400`, () => {
    const query = (n: number) => Array.from({ length: n }, (_, i) => `k${i}=v`).join('&');

    expect(Object.keys(strictQueryParser(query(MAX_QUERY_PARAMETERS)))).toHaveLength(
      MAX_QUERY_PARAMETERS,
    );
    expect(() => strictQueryParser(query(MAX_QUERY_PARAMETERS + 1))).toThrow(AppError);
  });
});

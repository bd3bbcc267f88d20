from rest_framework.pagination import LimitOffsetPagination


class Pagination(LimitOffsetPagination):
    """`limit`/`offset` paging, bounded: a huge number is clamped, never sent to the database."""

    default_limit = 100
    max_limit = 1000
    max_offset = 10**9

    def get_offset(self, request) -> int:
        return min(super().get_offset(request), self.max_offset)
